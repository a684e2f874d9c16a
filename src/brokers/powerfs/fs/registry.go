package main

import (
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// entry is one regular file's cache with the descriptor the daemon writes it back through.
// Open handles share it; it outlives them while it holds unsynced data.
type entry struct {
	mu      sync.Mutex
	cache   *fileCache
	fd      int
	handles int
	path    func() string // the file's path in the mount, for replies
}

// layer is the daemon's state. Every file operation holds gate for reading; a cut or a
// shutdown holds it for writing, so that it sees no write half done and none after it.
type layer struct {
	gate    sync.RWMutex
	stopped bool

	// writeback: the kernel caches writes and sends them as page write-backs (main.go)
	writeback  bool
	mountpoint string

	mu    sync.Mutex
	files map[uint64]*entry

	writes, fsyncs, bytesWritten atomic.Int64
}

func newLayer(writeback bool) *layer {
	return &layer{files: map[uint64]*entry{}, writeback: writeback}
}

// errStopped answers operations that arrive after a cut: the machine is off.
const errStopped = unix.EIO

// running runs fn unless the layer is stopped, and keeps cuts out until it returns.
func (l *layer) running(fn func() syscall.Errno) syscall.Errno {
	l.gate.RLock()
	defer l.gate.RUnlock()
	if l.stopped {
		return errStopped
	}
	return fn()
}

// attach returns the inode's entry, creating it (with its own descriptor, reopened from
// fd so that it works for unlinked files too) when the inode has none.
func (l *layer) attach(ino uint64, fd int, path func() string) (*entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.files[ino]; e != nil {
		e.handles++
		e.path = path
		return e, nil
	}
	own, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", fd), unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(own, &st); err != nil {
		unix.Close(own)
		return nil, err
	}
	e := &entry{cache: newFileCache(st.Size), fd: own, handles: 1, path: path}
	l.files[ino] = e
	return e, nil
}

// detach drops a handle. An entry without handles is forgotten when it is clean, or when
// its file has no name left (unlinked): nothing can write it back any more.
func (l *layer) detach(ino uint64, e *entry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e.handles--
	if e.handles > 0 {
		return
	}
	named := l.files[ino] == e
	e.mu.Lock()
	dirty := e.cache.isDirty()
	e.mu.Unlock()
	if named && dirty {
		return
	}
	if named {
		delete(l.files, ino)
	}
	unix.Close(e.fd)
}

// lookup is the entry of an inode without a handle, or nil.
func (l *layer) lookup(ino uint64) *entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.files[ino]
}

// showSize puts the cached size of a regular file into an entry reply.
func (l *layer) showSize(ch *fs.Inode, out *fuse.EntryOut) {
	if ch == nil || !isRegular(ch.StableAttr().Mode) {
		return
	}
	if e := l.lookup(ch.StableAttr().Ino); e != nil {
		e.mu.Lock()
		out.Attr.Size = uint64(e.cache.size)
		e.mu.Unlock()
	}
}

// unlinked forgets the entry of an inode whose last name is gone: the backing
// filesystem may give its number to a new file. Open handles keep their entry.
func (l *layer) unlinked(ino uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.files[ino]; e != nil {
		delete(l.files, ino)
		if e.handles == 0 {
			unix.Close(e.fd)
		}
	}
}

type layerStats struct {
	Writeback     bool  `json:"writeback"`
	UnsyncedBytes int64 `json:"unsyncedBytes"`
	DirtyFiles    int   `json:"dirtyFiles"`
	Writes        int64 `json:"writes"`
	Fsyncs        int64 `json:"fsyncs"`
	BytesWritten  int64 `json:"bytesWritten"`
}

func (l *layer) stats() layerStats {
	s := layerStats{Writeback: l.writeback, Writes: l.writes.Load(), Fsyncs: l.fsyncs.Load(), BytesWritten: l.bytesWritten.Load()}
	l.each(func(e *entry) {
		if e.cache.isDirty() {
			s.DirtyFiles++
			s.UnsyncedBytes += e.cache.dirty.total()
		}
	})
	return s
}

// each calls fn on every entry under its lock.
func (l *layer) each(fn func(e *entry)) {
	l.mu.Lock()
	all := make([]*entry, 0, len(l.files))
	for _, e := range l.files {
		all = append(all, e)
	}
	l.mu.Unlock()
	for _, e := range all {
		e.mu.Lock()
		fn(e)
		e.mu.Unlock()
	}
}

type cutResult struct {
	Mode          string   `json:"mode"`
	BytesDropped  int64    `json:"bytesDropped"`
	FilesAffected int      `json:"filesAffected"`
	TornFiles     []string `json:"tornFiles"`
}

// cut is the power failure. lose-unsynced leaves every backing file as it is (its last
// synced state); torn first writes back all but the tail of each file's last write.
// Afterwards every operation fails: the layer is stopped.
func (l *layer) cut(mode string) (cutResult, error) {
	if mode != "lose-unsynced" && mode != "torn" {
		return cutResult{}, fmt.Errorf("unknown cut mode %q (lose-unsynced, torn)", mode)
	}
	if mode == "torn" && l.writeback {
		return cutResult{}, fmt.Errorf("a torn cut needs a mount without the write-back cache (its last write would be the kernel's page write-back, not the program's write)")
	}
	// What the kernel still holds comes over first, only to be dropped with the rest, so
	// that bytesDropped counts it; whatever it sends once the gate is closed is refused.
	// A failed drain costs the count only, never the cut.
	_ = l.drainKernel()
	l.gate.Lock()
	defer l.gate.Unlock()
	if l.stopped {
		return cutResult{}, fmt.Errorf("already stopped")
	}
	l.stopped = true
	res := cutResult{Mode: mode, TornFiles: []string{}}
	torn := map[string]bool{}
	var firstErr error
	l.each(func(e *entry) {
		if !e.cache.isDirty() {
			return
		}
		res.FilesAffected++
		if mode == "lose-unsynced" {
			res.BytesDropped += e.cache.dirty.total()
			e.cache.forget(0)
			return
		}
		if lost := e.cache.tear(); lost > 0 {
			res.BytesDropped += lost
			torn[e.path()] = true
		}
		if err := e.cache.writeBack(e.fd); err != nil && firstErr == nil {
			firstErr = err
		}
	})
	res.TornFiles = sortedKeys(torn)
	return res, firstErr
}

// shutdown is an orderly power-off: everything is written back and synced.
func (l *layer) shutdown() error {
	if err := l.drainKernel(); err != nil {
		return err
	}
	l.gate.Lock()
	defer l.gate.Unlock()
	if l.stopped {
		return fmt.Errorf("already stopped")
	}
	l.stopped = true
	return l.syncAll()
}

// sync is the kernel's periodic write-back (and sync(1)): every file is written back and
// synced, and the layer runs on. Returns the bytes it wrote back.
func (l *layer) sync() (int64, error) {
	if err := l.drainKernel(); err != nil {
		return 0, err
	}
	l.gate.Lock()
	defer l.gate.Unlock()
	if l.stopped {
		return 0, fmt.Errorf("already stopped")
	}
	var bytes int64
	l.each(func(e *entry) { bytes += e.cache.dirty.total() })
	err := l.syncAll()
	l.prune()
	return bytes, err
}

// drainKernel has the kernel hand the layer every page its write-back cache holds dirty,
// and waits until it has. syncfs(2) starts the write-back of every file but does not wait
// for a FUSE daemon's replies; the close of a file does (the kernel's flush writes the
// file's pages back and waits, then sends FLUSH, which syncs nothing). So after a syncfs,
// every file open through the mount (the only ones whose pages the kernel can still hold:
// a close hands them over) is opened and closed through it; files renamed or unlinked
// meanwhile are skipped. It runs outside the gate: the kernel's writes need it.
func (l *layer) drainKernel() error {
	if !l.writeback {
		return nil
	}
	root, err := unix.Open(l.mountpoint, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", l.mountpoint, err)
	}
	defer unix.Close(root)
	// EINTR: a request of the kernel's that a signal caught before the layer read it (the
	// layer's own threads get the Go runtime's signals); done again, it goes through.
	err = retryEINTR(func() error { return unix.Syncfs(root) })
	if err != nil {
		return fmt.Errorf("syncfs %s: %w", l.mountpoint, err)
	}
	for _, p := range l.openPaths() {
		err := retryEINTR(func() error {
			fd, err := unix.Openat(root, p, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				return nil // renamed or unlinked since
			}
			return unix.Close(fd)
		})
		if err != nil {
			return fmt.Errorf("close of %s through the mount (its write-back): %w", p, err)
		}
	}
	return nil
}

func retryEINTR(fn func() error) error {
	for i := 0; ; i++ {
		if err := fn(); err != unix.EINTR || i == 100 {
			return err
		}
	}
}

// openPaths are the paths in the mount of the named files that have open handles.
func (l *layer) openPaths() []string {
	l.mu.Lock()
	var paths []func() string
	for _, e := range l.files {
		if e.handles > 0 {
			paths = append(paths, e.path)
		}
	}
	l.mu.Unlock()
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		if name := p(); name != "" {
			out = append(out, name)
		}
	}
	return out
}

// prune forgets the entries no handle uses: clean now, they hold nothing.
func (l *layer) prune() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for ino, e := range l.files {
		if e.handles == 0 && !e.cache.isDirty() {
			delete(l.files, ino)
			unix.Close(e.fd)
		}
	}
}

// syncAll syncs every file; called with the gate held for writing.
func (l *layer) syncAll() error {
	var firstErr error
	l.each(func(e *entry) {
		if err := syncEntry(e); err != nil && firstErr == nil {
			firstErr = err
		}
	})
	return firstErr
}

// syncEntry is fsync(2) of the file: the cache reaches the backing file, which then gets a
// real fsync, so the caller pays what a disk charges. Called with e.mu held.
func syncEntry(e *entry) error {
	if err := e.cache.writeBack(e.fd); err != nil {
		return err
	}
	return unix.Fsync(e.fd)
}
