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

	mu    sync.Mutex
	files map[uint64]*entry

	writes, fsyncs, bytesWritten atomic.Int64
}

func newLayer() *layer { return &layer{files: map[uint64]*entry{}} }

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
	UnsyncedBytes int64 `json:"unsyncedBytes"`
	DirtyFiles    int   `json:"dirtyFiles"`
	Writes        int64 `json:"writes"`
	Fsyncs        int64 `json:"fsyncs"`
	BytesWritten  int64 `json:"bytesWritten"`
}

func (l *layer) stats() layerStats {
	s := layerStats{Writes: l.writes.Load(), Fsyncs: l.fsyncs.Load(), BytesWritten: l.bytesWritten.Load()}
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
