// powerfs: a FUSE filesystem that can lose the writes no fsync has covered, as a power
// failure does. busbench mounts it under a broker's data directory to test what each
// fsync setting really buys (kill -9 of a broker cannot: the page cache survives it).
//
// Semantics (those of LazyFS, VLDB 2024, for file data):
//   - Every operation passes through to a backing directory, except file data: bytes
//     written and size changes (write, truncate/ftruncate, O_TRUNC at open) that no
//     fsync/fdatasync of that file has covered stay in the layer's cache, per inode and
//     shared by every handle. Reads and getattr see them.
//   - fsync or fdatasync of a file writes its cached bytes and size to the backing file,
//     then fsyncs the backing file for real (the caller pays a real fsync's cost); then
//     the file's cache is empty. Other files keep theirs. Writes through an O_SYNC or
//     O_DSYNC handle are synced one by one.
//   - Limit: metadata operations (create, mkdir, unlink, rename, link, symlink, chmod...)
//     reach the backing directory at once, so they are durable at once, as
//     they would be on a filesystem that journals metadata synchronously. A rename keeps
//     the inode's unsynced data with it. fsyncdir passes through. syncfs(2) is not seen
//     by the layer (go-fuse does not forward it), so it syncs nothing here.
//   - SEEK_DATA/SEEK_HOLE report no holes; fallocate that grows a file or punches holes
//     is refused (EOPNOTSUPP); O_TMPFILE and copy_file_range are refused (the kernel and
//     programs fall back to paths the layer sees); extended attributes are not supported
//     (see xattr.go: passing them through costs a round trip per write).
//
// With -writeback the kernel's FUSE write-back cache is on (CAP_WRITEBACK_CACHE, asked for
// through go-fuse's MountOptions.ExtraCapabilities). A write(2) then only dirties the
// kernel's page cache; the kernel hands dirty pages to the layer as page write-backs (up
// to 1 MiB each) at fsync/fdatasync (before it sends FSYNC, so the fsync covers them), at
// every close (before FLUSH), and under its own write-back. The layer costs a fraction of
// a round trip per write(2) instead of one. What holds, and what changes:
//   - lose-unsynced is exact as above: the kernel's dirty pages are unsynced data too.
//     A cut first has the kernel hand them over (so that bytesDropped counts them) and
//     then drops them with the rest; any page the kernel sends once the cut has begun is
//     refused (EIO), so none reaches the backing directory afterwards.
//   - sync and shutdown first have the kernel hand over its dirty pages (syncfs(2) of
//     the mount, then an open and close through the mount of every file open there:
//     a close waits for the write-back, syncfs does not).
//   - the layer's writes are the kernel's: stats count page write-backs, not write(2)s.
//     A page goes back whole; the bytes at its edges that equal what the file already
//     holds are left out of the cache (cache.go, trim), so the unsynced and dropped counts
//     are the bytes the program changed, to within the middle of a write-back.
//   - a torn cut is refused: its "last write" would be the kernel's last page write-back
//     of a file (in page order, at a flush), not the program's last write(2). Torn cuts
//     need a mount without -writeback, where the semantics above are exact.
//   - reads of files opened write-only reach the layer (the kernel fills partial pages),
//     which is why every backing descriptor is opened read-write; sizes and mtimes come
//     from the kernel (opens keep the kernel's cache: no one changes the backing files).
//
// Control: a Unix socket, one JSON object per line each way.
//
//	{"op":"stats"}                    -> {"ok":true,"writeback":B,"unsyncedBytes":N,"dirtyFiles":N,"writes":N,"fsyncs":N,"bytesWritten":N}
//	{"op":"cut","mode":"lose-unsynced"} power failure: every file returns to its last synced
//	                                  contents and length
//	{"op":"cut","mode":"torn"}        every unsynced write of a file but its last one persists (the
//	                                  kernel wrote dirty pages back in order); the last keeps its
//	                                  bytes up to the last 4 KiB-aligned file offset strictly inside
//	                                  it (none when it lies within one page), the rest is lost
//	                                  -> {"ok":true,"mode":M,"bytesDropped":N,"filesAffected":N,"tornFiles":[...]}
//	{"op":"sync"}                     the kernel's periodic write-back (or sync(1)): everything is
//	                                  written back and synced; the layer runs on
//	                                  -> {"ok":true,"bytesWrittenBack":N}
//	{"op":"shutdown"}                 an orderly power-off: everything is written back and synced
//
// After a cut or a shutdown the daemon unmounts and exits 0; a new mount of the same
// backing directory starts with no kernel cache of the old one. SIGTERM or SIGINT detach
// the mount and exit without writing back. The daemon dies with its parent
// (PR_SET_PDEATHSIG), and prints "ready" on stdout once the mount answers.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

func main() {
	backing := flag.String("backing", "", "backing directory (holds the synced state)")
	mountpoint := flag.String("mount", "", "mount point")
	control := flag.String("control", "", "control socket path")
	writeback := flag.Bool("writeback", false, "let the kernel cache writes (FUSE write-back cache): see the package comment")
	flag.Parse()
	if *backing == "" || *mountpoint == "" || *control == "" {
		fail("usage: powerfs -backing DIR -mount DIR -control SOCKET")
	}
	// Never outlive the harness: a daemon left behind keeps a mount nobody controls.
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0, 0, 0); err != nil {
		fail("prctl: %v", err)
	}
	if os.Getppid() == 1 {
		fail("parent already gone")
	}
	l := newLayer(*writeback)
	mp, err := mount(l, *backing, *mountpoint)
	if err != nil {
		fail("mount %s: %v", *mountpoint, err)
	}
	ln, err := listen(*control)
	if err != nil {
		detach(mp)
		fail("control socket %s: %v", *control, err)
	}
	go onSignal(mp, *control)
	fmt.Println("ready")
	serve(ln, l, mp, *control)
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "powerfs: "+format+"\n", args...)
	os.Exit(1)
}

func mount(l *layer, backing, mountpoint string) (string, error) {
	backing, err := filepath.Abs(backing)
	if err != nil {
		return "", err
	}
	var st unix.Stat_t
	if err := unix.Stat(backing, &st); err != nil {
		return "", err
	}
	root := &fs.LoopbackRoot{Path: backing, Dev: st.Dev}
	root.NewNode = func(r *fs.LoopbackRoot, _ *fs.Inode, _ string, _ *syscall.Stat_t) fs.InodeEmbedder {
		return &node{LoopbackNode: fs.LoopbackNode{RootData: r}, layer: l}
	}
	rootNode := root.NewNode(root, nil, "", nil)
	root.RootNode = rootNode
	// Short timeouts: getattr reports the cache's size, and the kernel should ask.
	timeout := time.Second
	opts := &fs.Options{
		EntryTimeout: &timeout,
		AttrTimeout:  &timeout,
		MountOptions: fuse.MountOptions{
			FsName:            backing,
			Name:              "powerfs",
			AllowOther:        true,
			DirectMount:       true,
			DirectMountStrict: true,
			// 1 MiB, the kernel's limit: a program's large write() reaches the layer as
			// few requests, and "the last write" of a torn cut is close to the program's.
			MaxWrite: 1 << 20,
		},
	}
	if l.writeback {
		opts.MountOptions.ExtraCapabilities = fuse.CAP_WRITEBACK_CACHE
	}
	server, err := fs.Mount(mountpoint, rootNode, opts)
	if err != nil {
		return "", err
	}
	// go-fuse grants an extra capability only where the kernel offers it: a mount that
	// silently ran without the cache would be the slow layer under the fast one's name.
	if l.writeback && server.KernelSettings().Flags64()&fuse.CAP_WRITEBACK_CACHE == 0 {
		server.Unmount()
		return "", fmt.Errorf("the kernel does not offer the FUSE write-back cache (CAP_WRITEBACK_CACHE); mount without -writeback")
	}
	if l.mountpoint, err = filepath.Abs(mountpoint); err != nil {
		return "", err
	}
	return l.mountpoint, nil
}

// unmount is tried whole first; a mount still in use (a broker not yet dead) is detached.
func unmount(mp string) error {
	if err := unix.Unmount(mp, 0); err == nil {
		return nil
	}
	return detach(mp)
}

func detach(mp string) error { return unix.Unmount(mp, unix.MNT_DETACH) }

func onSignal(mp, control string) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	detach(mp)
	os.Remove(control)
	os.Exit(0)
}
