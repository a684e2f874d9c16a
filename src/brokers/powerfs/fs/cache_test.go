package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// backing is a real file holding `content`, as the synced state.
func backing(t *testing.T, content []byte) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(content); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func view(t *testing.T, c *fileCache, f *os.File) []byte {
	t.Helper()
	buf := make([]byte, c.size+10)
	n, err := c.read(buf, 0, int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

func onDisk(t *testing.T, f *os.File) []byte {
	t.Helper()
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSpans(t *testing.T) {
	var s spans
	s = s.add(10, 20).add(30, 40).add(20, 30)
	if len(s) != 1 || s[0] != (span{10, 40}) {
		t.Fatalf("adjacent spans merge: %v", s)
	}
	s = s.remove(15, 25)
	if len(s) != 2 || s.total() != 20 {
		t.Fatalf("remove splits: %v", s)
	}
	if w := s.within(0, 12); len(w) != 1 || w[0] != (span{10, 12}) {
		t.Fatalf("within: %v", w)
	}
}

func TestWritesStayInTheCacheUntilWriteBack(t *testing.T) {
	f := backing(t, []byte("synced"))
	c := newFileCache(6)
	c.write([]byte("XY"), 2)
	c.write([]byte("tail"), 10)
	if got := view(t, c, f); !bytes.Equal(got, []byte("syXYed\x00\x00\x00\x00tail")) {
		t.Fatalf("view %q", got)
	}
	if got := onDisk(t, f); string(got) != "synced" {
		t.Fatalf("backing changed before a sync: %q", got)
	}
	if err := c.writeBack(int(f.Fd())); err != nil {
		t.Fatal(err)
	}
	if got := onDisk(t, f); string(got) != "syXYed\x00\x00\x00\x00tail" || c.isDirty() {
		t.Fatalf("after write-back %q dirty=%v", got, c.isDirty())
	}
}

func TestTruncateIsLazyAndRegrowsWithZeros(t *testing.T) {
	f := backing(t, []byte("0123456789"))
	c := newFileCache(10)
	c.truncate(4)
	c.write([]byte("ab"), 8)
	if got := view(t, c, f); string(got) != "0123\x00\x00\x00\x00ab" {
		t.Fatalf("old bytes past the truncation must read as zeros: %q", got)
	}
	if err := c.writeBack(int(f.Fd())); err != nil {
		t.Fatal(err)
	}
	if got := onDisk(t, f); string(got) != "0123\x00\x00\x00\x00ab" {
		t.Fatalf("backing %q", got)
	}
}

func TestTornKeepsThePagesBeforeTheLastWritesLastBoundary(t *testing.T) {
	f := backing(t, nil)
	c := newFileCache(0)
	c.write(bytes.Repeat([]byte{'a'}, 5000), 0)
	c.write(bytes.Repeat([]byte{'b'}, 10000), 5000) // ends at 15000; last boundary inside: 12288
	if lost := c.tear(); lost != 15000-12288 {
		t.Fatalf("lost %d", lost)
	}
	if err := c.writeBack(int(f.Fd())); err != nil {
		t.Fatal(err)
	}
	want := append(bytes.Repeat([]byte{'a'}, 5000), bytes.Repeat([]byte{'b'}, 12288-5000)...)
	if got := onDisk(t, f); !bytes.Equal(got, want) {
		t.Fatalf("torn file: %d bytes", len(got))
	}
}

func TestTornWithinOnePageLosesTheWholeWriteAndRestoresWhatItOverwrote(t *testing.T) {
	f := backing(t, []byte("synced"))
	c := newFileCache(6)
	c.write([]byte("12345678"), 0) // unsynced, persists
	c.write([]byte("ZZ"), 4)       // the last write: one page, lost, 56 comes back
	if lost := c.tear(); lost != 2 {
		t.Fatalf("lost %d", lost)
	}
	if got := view(t, c, f); string(got) != "12345678" {
		t.Fatalf("view %q", got)
	}
}

func TestTornAfterATruncateTearsNothing(t *testing.T) {
	c := newFileCache(0)
	c.write([]byte("abc"), 0)
	c.truncate(1)
	if lost := c.tear(); lost != 0 {
		t.Fatalf("lost %d", lost)
	}
}

func TestTruncateToTheSameSizeIsNotUnsyncedData(t *testing.T) {
	c := newFileCache(0)
	c.truncate(0)
	if c.isDirty() {
		t.Fatal("an O_TRUNC open of an empty file made it dirty")
	}
}

// trimmed stores a write as the layer does with the kernel's write-back cache.
func trimmed(t *testing.T, c *fileCache, f *os.File, data []byte, off int64) {
	t.Helper()
	data, off, err := c.trim(data, off, int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 {
		c.write(data, off)
	}
}

func TestAPageWriteBackCountsOnlyTheBytesItChanges(t *testing.T) {
	f := backing(t, []byte("synced"))
	c := newFileCache(6)
	trimmed(t, c, f, []byte("synced, then appended"), 0) // the whole first page again
	if c.dirty.total() != 15 || c.dirty[0] != (span{6, 21}) {
		t.Fatalf("dirty %v", c.dirty)
	}
	if got := view(t, c, f); string(got) != "synced, then appended" {
		t.Fatalf("view %q", got)
	}
}

func TestTrimKeepsTheMiddleAndDropsBothEdges(t *testing.T) {
	content := bytes.Repeat([]byte{'a'}, 2*pageSize)
	f := backing(t, content)
	c := newFileCache(int64(len(content)))
	page := bytes.Clone(content)
	page[100], page[pageSize+5] = 'X', 'Y'
	trimmed(t, c, f, page, 0) // two pages, one byte changed in each
	if len(c.dirty) != 1 || c.dirty[0] != (span{100, pageSize + 6}) {
		t.Fatalf("dirty %v", c.dirty)
	}
	if got := view(t, c, f); !bytes.Equal(got, page) {
		t.Fatal("view differs from what was written")
	}
}

func TestTrimOfAnUnchangedPageLeavesTheFileClean(t *testing.T) {
	f := backing(t, []byte("synced"))
	c := newFileCache(6)
	trimmed(t, c, f, []byte("synced"), 0)
	if c.isDirty() || c.last != nil {
		t.Fatalf("dirty %v last %v", c.dirty, c.last)
	}
}

func TestTrimComparesWithTheCacheAndNeverPastTheSize(t *testing.T) {
	f := backing(t, []byte("synced"))
	c := newFileCache(6)
	c.write([]byte("ZZ"), 2)
	trimmed(t, c, f, []byte("synced\x00\x00"), 0) // reverts ZZ (kept: it changes the view) and grows by zeros
	if got := view(t, c, f); string(got) != "synced\x00\x00" {
		t.Fatalf("view %q", got)
	}
	if len(c.dirty) != 1 || c.dirty[0] != (span{2, 8}) || c.size != 8 {
		t.Fatalf("dirty %v size %d", c.dirty, c.size)
	}
}
