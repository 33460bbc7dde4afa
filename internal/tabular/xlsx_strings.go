package tabular

// The shared-string table, the one part held in memory, and Excel's
// escapes in cell text.

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
)

// readSharedStrings loads the table every text cell points into. It is
// the one part held in memory, so it has its own limits, and it is kept
// as one string with offsets: cells then cost a slice, not an allocation.
func (wb *workbook) readSharedStrings(p string) error {
	pr, err := wb.open(p)
	if pr == nil || err != nil {
		return err
	}
	defer pr.Close()
	d := wb.decoder(pr)
	var all strings.Builder
	var stack []string
	inSI := false
	for {
		tok, err := d.token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch e := tok.(type) {
		case xml.StartElement:
			stack = append(stack, e.Name.Local)
			if e.Name.Local == "si" {
				inSI = true
			}
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			if e.Name.Local == "si" && inSI {
				inSI = false
				if len(wb.sharedEnds) >= wb.lim.SharedStrings {
					return wb.tooMuchText(fmt.Sprintf("%d different values", wb.lim.SharedStrings))
				}
				wb.sharedEnds = append(wb.sharedEnds, uint32(all.Len()))
			}
		case xml.CharData:
			if !inSI || len(stack) == 0 || stack[len(stack)-1] != "t" || contains(stack, "rPh") {
				continue
			}
			if int64(all.Len()+len(e)) > wb.lim.SharedStringBytes || all.Len()+len(e) > math.MaxUint32 {
				return wb.tooMuchText(byteSize(wb.lim.SharedStringBytes))
			}
			all.Write(e)
		}
	}
	wb.shared = all.String()
	return nil
}

// tooMuchText is the error for a shared-string table over its limits. The
// limits are the function's memory's (XLSXLimitsForMemory), so the
// workbook is fine in itself and the message says what to do with it.
func (wb *workbook) tooMuchText(limit string) error {
	return cutover.Errorf(cutover.EINVALID, "%s is too large to read as an XLSX workbook here: its text is more than %s (Excel's shared strings, which are read into memory). Save each sheet as CSV (UTF-8) and upload those files instead.", fileName(wb.name), limit)
}

// byteSize says n bytes in whole megabytes from 1 MB (1 MiB) on.
func byteSize(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func (wb *workbook) sharedString(i int) (string, bool) {
	if i < 0 || i >= len(wb.sharedEnds) {
		return "", false
	}
	start := uint32(0)
	if i > 0 {
		start = wb.sharedEnds[i-1]
	}
	return wb.shared[start:wb.sharedEnds[i]], true
}

// unescapeX decodes Excel's _xHHHH_ escapes for control characters.
func unescapeX(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "_x")
		if i < 0 || i+7 > len(s) || s[i+6] != '_' {
			if i < 0 {
				b.WriteString(s)
				return b.String()
			}
			b.WriteString(s[:i+2])
			s = s[i+2:]
			continue
		}
		v, err := strconv.ParseUint(s[i+2:i+6], 16, 16)
		if err != nil {
			b.WriteString(s[:i+2])
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		b.WriteRune(rune(v))
		s = s[i+7:]
	}
}
