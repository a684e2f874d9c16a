package main

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// handle is an open regular file. Data calls go through the inode's cache; locks, flush
// and fallocate go to go-fuse's loopback file on the same descriptor. It deliberately
// has no PassthroughFd: kernel passthrough would send writes around the layer.
type handle struct {
	node  *node
	entry *entry
	fd    int
	sync  bool // O_SYNC / O_DSYNC: every write is synced
	inner fs.FileHandle
}

var (
	_ = (fs.FileReader)((*handle)(nil))
	_ = (fs.FileWriter)((*handle)(nil))
	_ = (fs.FileFsyncer)((*handle)(nil))
	_ = (fs.FileReleaser)((*handle)(nil))
	_ = (fs.FileFlusher)((*handle)(nil))
	_ = (fs.FileLseeker)((*handle)(nil))
	_ = (fs.FileAllocater)((*handle)(nil))
	_ = (fs.FileGetlker)((*handle)(nil))
	_ = (fs.FileSetlker)((*handle)(nil))
	_ = (fs.FileSetlkwer)((*handle)(nil))
)

// locked runs fn with the layer running and the entry locked.
func (h *handle) locked(fn func(c *fileCache) syscall.Errno) syscall.Errno {
	return h.node.layer.running(func() syscall.Errno {
		h.entry.mu.Lock()
		defer h.entry.mu.Unlock()
		return fn(h.entry.cache)
	})
}

func (h *handle) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	var n int
	errno := h.locked(func(c *fileCache) syscall.Errno {
		var err error
		n, err = c.read(buf, off, h.fd)
		return fs.ToErrno(err)
	})
	if errno != 0 {
		return nil, errno
	}
	return fuse.ReadResultData(buf[:n]), 0
}

func (h *handle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	errno := h.locked(func(c *fileCache) syscall.Errno {
		if err := h.store(c, data, off); err != nil {
			return fs.ToErrno(err)
		}
		if h.sync {
			if err := c.writeBack(h.entry.fd); err != nil {
				return fs.ToErrno(err)
			}
			return fs.ToErrno(unix.Fdatasync(h.entry.fd))
		}
		return 0
	})
	if errno != 0 {
		return 0, errno
	}
	l := h.node.layer
	l.writes.Add(1)
	l.bytesWritten.Add(int64(len(data)))
	return uint32(len(data)), 0
}

// store puts a write into the cache. A page write-back from the kernel's cache is first
// narrowed to the bytes it changes at its edges (cache.go, trim), so that the counts of
// unsynced and dropped bytes are the program's, not its pages'.
func (h *handle) store(c *fileCache, data []byte, off int64) error {
	if h.node.layer.writeback {
		var err error
		if data, off, err = c.trim(data, off, h.entry.fd); err != nil {
			return err
		}
	}
	if len(data) > 0 {
		c.write(data, off)
	}
	return nil
}

// Fsync covers fdatasync too (flags say which): both make the file's data durable. The
// real fsync runs outside the file's lock, so that writes go on meanwhile, as they do on
// a disk filesystem; it covers everything written back before it.
func (h *handle) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	h.node.layer.fsyncs.Add(1)
	return h.node.layer.running(func() syscall.Errno {
		h.entry.mu.Lock()
		err := h.entry.cache.writeBack(h.entry.fd)
		h.entry.mu.Unlock()
		if err != nil {
			return fs.ToErrno(err)
		}
		return fs.ToErrno(unix.Fsync(h.fd))
	})
}

func (h *handle) Release(ctx context.Context) syscall.Errno {
	h.node.layer.detach(h.node.ino(), h.entry)
	return h.inner.(fs.FileReleaser).Release(ctx)
}

func (h *handle) Flush(ctx context.Context) syscall.Errno {
	return h.inner.(fs.FileFlusher).Flush(ctx)
}

// Lseek answers SEEK_DATA and SEEK_HOLE as if the file had no holes: the cache does not
// track them, and every offset below the size is data.
func (h *handle) Lseek(ctx context.Context, off uint64, whence uint32) (uint64, syscall.Errno) {
	var out uint64
	errno := h.locked(func(c *fileCache) syscall.Errno {
		size := uint64(c.size)
		if off >= size {
			return syscall.ENXIO
		}
		out = off
		if whence == unix.SEEK_HOLE {
			out = size
		}
		return 0
	})
	return out, errno
}

// Allocate passes through reservations inside the file; growing the file or punching
// holes would change its data behind the cache, so those are refused.
func (h *handle) Allocate(ctx context.Context, off uint64, size uint64, mode uint32) syscall.Errno {
	return h.locked(func(c *fileCache) syscall.Errno {
		keepSize := mode == unix.FALLOC_FL_KEEP_SIZE
		if !keepSize && (mode != 0 || off+size > uint64(c.size)) {
			return syscall.EOPNOTSUPP
		}
		return h.inner.(fs.FileAllocater).Allocate(ctx, off, size, unix.FALLOC_FL_KEEP_SIZE)
	})
}

func (h *handle) Getlk(ctx context.Context, owner uint64, lk *fuse.FileLock, flags uint32, out *fuse.FileLock) syscall.Errno {
	return h.inner.(fs.FileGetlker).Getlk(ctx, owner, lk, flags, out)
}

func (h *handle) Setlk(ctx context.Context, owner uint64, lk *fuse.FileLock, flags uint32) syscall.Errno {
	return h.inner.(fs.FileSetlker).Setlk(ctx, owner, lk, flags)
}

func (h *handle) Setlkw(ctx context.Context, owner uint64, lk *fuse.FileLock, flags uint32) syscall.Errno {
	return h.inner.(fs.FileSetlkwer).Setlkw(ctx, owner, lk, flags)
}
