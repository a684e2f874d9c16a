package main

import (
	"context"
	"path/filepath"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// node is go-fuse's loopback node with file data routed through the layer. Everything
// it does not override (lookup, mkdir, symlink, xattrs, statfs, readdir, fsyncdir...)
// goes to the backing directory at once.
type node struct {
	fs.LoopbackNode
	layer *layer
}

func (n *node) ino() uint64 { return n.StableAttr().Ino }

func (n *node) backingPath() string {
	return filepath.Join(n.RootData.Path, n.Path(nil))
}

func (n *node) mountPath() string { return n.Path(nil) }

func isRegular(mode uint32) bool { return mode&syscall.S_IFMT == syscall.S_IFREG }

// backingFlags: the kernel passes offsets, so O_APPEND would misplace pwrites; O_TRUNC is
// made lazy, O_SYNC is done by the layer; O_DIRECT would demand aligned buffers. Read-write
// because the layer reads and writes the backing file whatever the caller asked for.
func backingFlags(flags uint32) int {
	f := int(flags) &^ (unix.O_APPEND | unix.O_TRUNC | unix.O_DIRECT | unix.O_SYNC | unix.O_DSYNC | unix.O_ACCMODE | fuse.FMODE_EXEC)
	return f | unix.O_RDWR | unix.O_CLOEXEC
}

const syncFlags = unix.O_SYNC | unix.O_DSYNC

var _ = (fs.NodeOpener)((*node)(nil))

func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if !isRegular(n.StableAttr().Mode) {
		return n.LoopbackNode.Open(ctx, flags)
	}
	var h *handle
	errno := n.layer.running(func() syscall.Errno {
		fd, err := unix.Open(n.backingPath(), backingFlags(flags), 0)
		if err != nil {
			return fs.ToErrno(err)
		}
		var errno syscall.Errno
		h, errno = n.newHandle(fd, fs.NewLoopbackFile(fd), flags)
		return errno
	})
	if errno != 0 {
		return nil, 0, errno
	}
	return h, n.openFlags(), 0
}

// openFlags: with the write-back cache the kernel's pages are the file's newest state (no
// one changes the backing files behind the mount), so an open keeps them instead of
// invalidating them, which would first write every dirty page back to the layer.
func (n *node) openFlags() uint32 {
	if n.layer.writeback {
		return fuse.FOPEN_KEEP_CACHE
	}
	return 0
}

var _ = (fs.NodeCreater)((*node)(nil))

func (n *node) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	var child *fs.Inode
	var h *handle
	errno := n.layer.running(func() syscall.Errno {
		var lf fs.FileHandle
		var errno syscall.Errno
		child, lf, _, errno = n.LoopbackNode.Create(ctx, name, uint32(backingFlags(flags)), mode, out)
		if errno != 0 {
			return errno
		}
		c, ok := child.Operations().(*node)
		if !ok {
			return syscall.EIO
		}
		fd, ok := lf.(fs.FilePassthroughFder).PassthroughFd()
		if !ok {
			return syscall.EBADF
		}
		h, errno = c.newHandle(fd, lf, flags)
		return errno
	})
	if errno != 0 {
		return nil, nil, 0, errno
	}
	return child, h, n.openFlags(), 0
}

// newHandle wraps a backing descriptor and the loopback file that owns it (and closes it
// on release); an O_TRUNC open truncates lazily.
func (n *node) newHandle(fd int, inner fs.FileHandle, flags uint32) (*handle, syscall.Errno) {
	e, err := n.layer.attach(n.ino(), fd, n.mountPath)
	if err != nil {
		inner.(fs.FileReleaser).Release(context.Background())
		return nil, fs.ToErrno(err)
	}
	h := &handle{node: n, entry: e, fd: fd, sync: int(flags)&syncFlags != 0, inner: inner}
	if int(flags)&unix.O_TRUNC != 0 {
		e.mu.Lock()
		e.cache.truncate(0)
		e.mu.Unlock()
	}
	return h, 0
}

var _ = (fs.NodeTmpfiler)((*node)(nil))

// Tmpfile is refused: an O_TMPFILE file has no name for the layer to write back to when
// it is linked later. Programs fall back to a named temporary file.
func (n *node) Tmpfile(ctx context.Context, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EOPNOTSUPP
}

var _ = (fs.NodeCopyFileRanger)((*node)(nil))

// CopyFileRange is refused so that the kernel copies through read and write, which the
// layer sees.
func (n *node) CopyFileRange(ctx context.Context, fhIn fs.FileHandle, offIn uint64, out *fs.Inode, fhOut fs.FileHandle, offOut uint64, length uint64, flags uint64) (uint32, syscall.Errno) {
	return 0, syscall.EOPNOTSUPP
}

// innerFile is the loopback file under one of our handles, for go-fuse's own fd-based
// attribute calls.
func innerFile(f fs.FileHandle) fs.FileHandle {
	if h, ok := f.(*handle); ok {
		return h.inner
	}
	return f
}

// cachedSize is the size the layer shows for the inode, when it holds one.
func (n *node) cachedSize(f fs.FileHandle) (uint64, bool) {
	e := n.layer.lookup(n.ino())
	if h, ok := f.(*handle); ok {
		e = h.entry
	}
	if e == nil {
		return 0, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return uint64(e.cache.size), true
}

var _ = (fs.NodeGetattrer)((*node)(nil))

func (n *node) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if errno := n.LoopbackNode.Getattr(ctx, innerFile(f), out); errno != 0 {
		return errno
	}
	if size, ok := n.cachedSize(f); ok {
		out.Size = size
	}
	return 0
}

var _ = (fs.NodeStatxer)((*node)(nil))

func (n *node) Statx(ctx context.Context, f fs.FileHandle, flags uint32, mask uint32, out *fuse.StatxOut) syscall.Errno {
	if errno := n.LoopbackNode.Statx(ctx, innerFile(f), flags, mask, out); errno != 0 {
		return errno
	}
	if size, ok := n.cachedSize(f); ok {
		out.Size = size
	}
	return 0
}

var _ = (fs.NodeSetattrer)((*node)(nil))

// Setattr passes modes, owners and times through; a size change is lazy.
func (n *node) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return n.layer.running(func() syscall.Errno { return n.setattr(ctx, f, in, out) })
}

func (n *node) setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if size, ok := in.GetSize(); ok && isRegular(n.StableAttr().Mode) {
		if errno := n.truncate(f, int64(size)); errno != 0 {
			return errno
		}
		in.Valid &^= fuse.FATTR_SIZE
	}
	errno := n.LoopbackNode.Setattr(ctx, innerFile(f), in, out)
	if errno == syscall.ENOENT && f == nil && timesOnly(in) {
		// With the write-back cache the kernel sets the times of a file it wrote when it
		// evicts the inode, which can be after the file's last name is gone: nothing is
		// left to set, and an error here would reach the next syncfs(2) of the mount as a
		// failed write-back.
		out.Ino = n.ino()
		return 0
	}
	if errno != 0 {
		return errno
	}
	if size, ok := n.cachedSize(f); ok {
		out.Size = size
	}
	return 0
}

func timesOnly(in *fuse.SetAttrIn) bool {
	const times = fuse.FATTR_ATIME | fuse.FATTR_MTIME | fuse.FATTR_CTIME | fuse.FATTR_ATIME_NOW | fuse.FATTR_MTIME_NOW | fuse.FATTR_LOCKOWNER
	return in.Valid&^times == 0
}

// truncate(2) without a handle opens the file for the entry; the entry keeps the change.
func (n *node) truncate(f fs.FileHandle, size int64) syscall.Errno {
	if h, ok := f.(*handle); ok {
		h.entry.mu.Lock()
		h.entry.cache.truncate(size)
		h.entry.mu.Unlock()
		return 0
	}
	fd, err := unix.Open(n.backingPath(), unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return fs.ToErrno(err)
	}
	defer unix.Close(fd)
	e, err := n.layer.attach(n.ino(), fd, n.mountPath)
	if err != nil {
		return fs.ToErrno(err)
	}
	e.mu.Lock()
	e.cache.truncate(size)
	e.mu.Unlock()
	n.layer.detach(n.ino(), e)
	return 0
}

var _ = (fs.NodeUnlinker)((*node)(nil))

func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	gone := n.lastName(name)
	errno := n.LoopbackNode.Unlink(ctx, name)
	if errno == 0 && gone != 0 {
		n.layer.unlinked(gone)
	}
	return errno
}

var _ = (fs.NodeRenamer)((*node)(nil))

// Rename moves the name only: unsynced data belongs to the inode and goes with it. A file
// the rename replaces loses its last name.
func (n *node) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	var gone uint64
	if p, ok := newParent.(*node); ok && flags&unix.RENAME_EXCHANGE == 0 {
		gone = p.lastName(newName)
	}
	errno := n.LoopbackNode.Rename(ctx, name, newParent, newName, flags)
	if errno == 0 && gone != 0 {
		n.layer.unlinked(gone)
	}
	return errno
}

// lastName is the key of the regular file `name` when that name is its only link, else 0.
func (n *node) lastName(name string) uint64 {
	var st unix.Stat_t
	if unix.Lstat(filepath.Join(n.backingPath(), name), &st) != nil || !isRegular(st.Mode) || st.Nlink != 1 {
		return 0
	}
	return n.key(&st)
}

// key is the inode number go-fuse's loopback gives a backing file (its StableAttr.Ino).
func (n *node) key(st *unix.Stat_t) uint64 {
	swapped := (st.Dev << 32) | (st.Dev >> 32)
	rootSwapped := (n.RootData.Dev << 32) | (n.RootData.Dev >> 32)
	return (swapped ^ rootSwapped) ^ st.Ino
}

var _ = (fs.NodeLookuper)((*node)(nil))

// Lookup's reply carries the file's attributes, which the kernel keeps (and readdirplus
// uses lookups too): they must show the cached size, not the backing file's.
func (n *node) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	ch, errno := n.LoopbackNode.Lookup(ctx, name, out)
	if errno == 0 {
		n.layer.showSize(ch, out)
	}
	return ch, errno
}

var _ = (fs.NodeLinker)((*node)(nil))

func (n *node) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	ch, errno := n.LoopbackNode.Link(ctx, target, name, out)
	if errno == 0 {
		n.layer.showSize(ch, out)
	}
	return ch, errno
}
