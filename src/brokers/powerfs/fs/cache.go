package main

import (
	"math"
	"sort"

	"golang.org/x/sys/unix"
)

const pageSize = 4096

// span is a half-open byte range [lo, hi).
type span struct{ lo, hi int64 }

// spans is a sorted list of disjoint, non-adjacent ranges: the bytes of a file that the
// cache holds and the backing file does not.
type spans []span

func (s spans) total() int64 {
	var n int64
	for _, r := range s {
		n += r.hi - r.lo
	}
	return n
}

// add merges [lo, hi) into the set.
func (s spans) add(lo, hi int64) spans {
	if lo >= hi {
		return s
	}
	out := make(spans, 0, len(s)+1)
	i := 0
	for ; i < len(s) && s[i].hi < lo; i++ {
		out = append(out, s[i])
	}
	for ; i < len(s) && s[i].lo <= hi; i++ {
		lo, hi = min(lo, s[i].lo), max(hi, s[i].hi)
	}
	out = append(out, span{lo, hi})
	return append(out, s[i:]...)
}

// remove cuts [lo, hi) out of the set.
func (s spans) remove(lo, hi int64) spans {
	out := make(spans, 0, len(s)+1)
	for _, r := range s {
		if r.hi <= lo || r.lo >= hi {
			out = append(out, r)
			continue
		}
		if r.lo < lo {
			out = append(out, span{r.lo, lo})
		}
		if r.hi > hi {
			out = append(out, span{hi, r.hi})
		}
	}
	return out
}

// within returns the parts of the set inside [lo, hi).
func (s spans) within(lo, hi int64) spans {
	var out spans
	for _, r := range s {
		if a, b := max(r.lo, lo), min(r.hi, hi); a < b {
			out = append(out, span{a, b})
		}
	}
	return out
}

// undo remembers what the last unsynced write replaced, so that a torn cut can revert
// its tail: the cache's own bytes it overwrote and the file's size before it.
type undo struct {
	off, end   int64
	sizeBefore int64
	prevDirty  spans  // parts of [off, end) the cache already held before the write
	prevBytes  []byte // the cache's bytes over [off, end); meaningful inside prevDirty only
}

// fileCache is the unsynced state of one inode: its logical size, the bytes written
// since the last sync (pages, with dirty telling which of their bytes are real), and a
// floor from which the backing file's bytes read as zeros (a lazy truncate).
// The backing file itself always holds the last synced contents.
type fileCache struct {
	size      int64
	floor     int64
	sizeDirty bool
	dirty     spans
	pages     map[int64][]byte
	last      *undo
}

func newFileCache(backingSize int64) *fileCache {
	return &fileCache{size: backingSize, floor: math.MaxInt64, pages: map[int64][]byte{}}
}

func (c *fileCache) isDirty() bool { return len(c.dirty) > 0 || c.sizeDirty }

// copyOut copies the cached bytes of [off, off+len(dst)) into dst.
func (c *fileCache) copyOut(dst []byte, off int64) {
	for done := 0; done < len(dst); {
		pos := off + int64(done)
		page, in := pos/pageSize, pos%pageSize
		n := min(int64(len(dst)-done), pageSize-in)
		if p := c.pages[page]; p != nil {
			copy(dst[done:done+int(n)], p[in:in+n])
		} else {
			clear(dst[done : done+int(n)])
		}
		done += int(n)
	}
}

// copyIn stores src at off in the pages.
func (c *fileCache) copyIn(src []byte, off int64) {
	for done := 0; done < len(src); {
		pos := off + int64(done)
		page, in := pos/pageSize, pos%pageSize
		p := c.pages[page]
		if p == nil {
			p = make([]byte, pageSize)
			c.pages[page] = p
		}
		done += copy(p[in:], src[done:])
	}
}

func (c *fileCache) write(data []byte, off int64) {
	end := off + int64(len(data))
	u := &undo{off: off, end: end, sizeBefore: c.size, prevDirty: c.dirty.within(off, end)}
	if len(u.prevDirty) > 0 {
		u.prevBytes = make([]byte, len(data))
		c.copyOut(u.prevBytes, off)
	}
	c.last = u
	c.copyIn(data, off)
	c.dirty = c.dirty.add(off, end)
	if end > c.size {
		c.size, c.sizeDirty = end, true
	}
}

// trim narrows a write to the bytes it changes at its edges, for writes that are the
// kernel's page write-backs: a page goes to the layer whole (up to the end of file), and
// its bytes the program did not write are the ones the file holds already. Only the first
// and the last page of the write are compared, where that padding lies; bytes at or past
// the file's size are new whatever they hold. A write that changes nothing comes back
// empty. Dropping bytes equal to the file's current view leaves every state a cut or a
// sync can produce unchanged; it only keeps unchanged bytes out of the counts.
func (c *fileCache) trim(data []byte, off int64, backing int) ([]byte, int64, error) {
	end := off + int64(len(data))
	if lead := min(end, c.size, (off/pageSize+1)*pageSize) - off; lead > 0 {
		n, err := c.sameBytes(data[:lead], off, backing, false)
		if err != nil {
			return nil, off, err
		}
		data, off = data[n:], off+int64(n)
	}
	if end > c.size || len(data) == 0 {
		return data, off, nil
	}
	from := max(off, (end-1)/pageSize*pageSize)
	n, err := c.sameBytes(data[from-off:], from, backing, true)
	if err != nil {
		return nil, off, err
	}
	return data[:len(data)-n], off, nil
}

// sameBytes counts how many bytes of want, from its start (or from its end, fromEnd),
// equal what the file reads at off now. want lies below the file's size.
func (c *fileCache) sameBytes(want []byte, off int64, backing int, fromEnd bool) (int, error) {
	have := make([]byte, len(want))
	if _, err := c.read(have, off, backing); err != nil {
		return 0, err
	}
	n := 0
	for n < len(want) {
		i := n
		if fromEnd {
			i = len(want) - 1 - n
		}
		if want[i] != have[i] {
			break
		}
		n++
	}
	return n, nil
}

// truncate is lazy: the backing file keeps its bytes until a sync; from here on the ones
// at and after size read as zeros. A size change after the last write leaves no write
// for a torn cut to tear. Truncating to the current size changes nothing (an O_TRUNC
// open of an empty file is not unsynced data).
func (c *fileCache) truncate(size int64) {
	if size == c.size {
		return
	}
	c.dirty = c.dirty.remove(size, math.MaxInt64)
	for p := range c.pages {
		if p*pageSize >= size {
			delete(c.pages, p)
		}
	}
	c.floor = min(c.floor, size)
	c.size, c.sizeDirty = size, true
	c.last = nil
}

// read fills dst from off, as the file reads now: backing bytes below the floor, the
// cache's bytes over them. Returns the byte count (short at the logical end of file).
func (c *fileCache) read(dst []byte, off int64, backing int) (int, error) {
	n := min(int64(len(dst)), max(c.size-off, 0))
	dst = dst[:n]
	clear(dst)
	if fromBacking := min(off+n, c.floor) - off; fromBacking > 0 {
		if _, err := preadFull(backing, dst[:fromBacking], off); err != nil {
			return 0, err
		}
	}
	for _, r := range c.dirty.within(off, off+n) {
		c.copyOut(dst[r.lo-off:r.hi-off], r.lo)
	}
	return int(n), nil
}

// preadFull reads until dst is full or the file ends (a short tail stays zero).
func preadFull(fd int, dst []byte, off int64) (int, error) {
	done := 0
	for done < len(dst) {
		n, err := unix.Pread(fd, dst[done:], off+int64(done))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return done, err
		}
		if n == 0 {
			break
		}
		done += n
	}
	return done, nil
}

// writeBack makes the backing file equal to the cache's view, then forgets the cache.
// It does not fsync: callers that promise durability do.
func (c *fileCache) writeBack(backing int) error {
	if c.floor != math.MaxInt64 {
		var st unix.Stat_t
		if err := unix.Fstat(backing, &st); err != nil {
			return err
		}
		if c.floor < st.Size {
			if err := unix.Ftruncate(backing, c.floor); err != nil {
				return err
			}
		}
	}
	buf := make([]byte, 0, 256*1024)
	for _, r := range c.dirty {
		for pos := r.lo; pos < r.hi; {
			n := min(r.hi-pos, int64(cap(buf)))
			b := buf[:n]
			c.copyOut(b, pos)
			if err := pwriteFull(backing, b, pos); err != nil {
				return err
			}
			pos += n
		}
	}
	if c.sizeDirty {
		if err := setSize(backing, c.size); err != nil {
			return err
		}
	}
	c.forget(c.size)
	return nil
}

// setSize truncates only when the writes did not already leave the file at its size: an
// ftruncate is a metadata change that the next fsync would pay a journal commit for.
func setSize(fd int, size int64) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Size == size {
		return nil
	}
	return unix.Ftruncate(fd, size)
}

func pwriteFull(fd int, b []byte, off int64) error {
	for len(b) > 0 {
		n, err := unix.Pwrite(fd, b, off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b, off = b[n:], off+int64(n)
	}
	return nil
}

// forget empties the cache: the backing file (now of the given size) is the truth again.
func (c *fileCache) forget(backingSize int64) {
	*c = *newFileCache(backingSize)
}

// tear reverts the tail of the last unsynced write from its last 4 KiB-aligned file offset
// strictly inside it (all of it when it lies within one page), as a power cut during the
// kernel's in-order write-back of that write would. Returns the bytes it lost.
func (c *fileCache) tear() int64 {
	u := c.last
	if u == nil {
		return 0
	}
	keep := (u.end - 1) / pageSize * pageSize
	if keep <= u.off {
		keep = u.off
	}
	c.dirty = c.dirty.remove(keep, u.end)
	for _, r := range u.prevDirty.within(keep, u.end) {
		c.copyIn(u.prevBytes[r.lo-u.off:r.hi-u.off], r.lo)
		c.dirty = c.dirty.add(r.lo, r.hi)
	}
	if keep == u.off {
		c.size = u.sizeBefore
	} else {
		c.size = max(u.sizeBefore, keep)
	}
	c.last = nil
	return u.end - keep
}

// sortedKeys exists for deterministic replies (tornFiles).
func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
