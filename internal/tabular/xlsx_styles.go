package tabular

// Cell styles: which number formats show a date, and rendering a date
// cell's serial as ISO 8601.

import (
	"encoding/xml"
	"io"
	"math"
	"strconv"
	"strings"
)

// readStyles records, per cell format index, whether the number format
// shows a date: XLSX stores dates as day counts, and only the style says
// that 45292 is 2024-01-01.
func (wb *workbook) readStyles(p string) error {
	pr, err := wb.open(p)
	if pr == nil || err != nil {
		return err
	}
	defer pr.Close()
	d := wb.decoder(pr)
	custom := map[int]dateKind{}
	inXfs := false
	for {
		tok, err := d.token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch e := tok.(type) {
		case xml.StartElement:
			switch e.Name.Local {
			case "numFmt":
				id, _ := strconv.Atoi(attr(e, "numFmtId"))
				custom[id] = classifyFormat(attr(e, "formatCode"))
			case "cellXfs":
				inXfs = true
			case "xf":
				if !inXfs {
					continue
				}
				id, _ := strconv.Atoi(attr(e, "numFmtId"))
				k, ok := custom[id]
				if !ok {
					k = builtinDateKind(id)
				}
				if len(wb.dateKind) >= maxColumns*4 {
					return wb.limitError("%s has more than %d cell formats", p, maxColumns*4)
				}
				wb.dateKind = append(wb.dateKind, k)
			}
		case xml.EndElement:
			if e.Name.Local == "cellXfs" {
				inXfs = false
			}
		}
	}
}

func builtinDateKind(id int) dateKind {
	switch {
	case id >= 14 && id <= 17, id >= 27 && id <= 31, id >= 34 && id <= 36, id >= 50 && id <= 58:
		return dateOnly
	case id >= 18 && id <= 21, id == 32, id == 33, id == 45, id == 47:
		return timeOnly
	case id == 22:
		return dateTime
	}
	return notDate
}

// classifyFormat reads a custom number format code the way Excel shows
// it: literal text ("..." and \x), colours and conditions ([Red]) do not
// count, elapsed time ([h]) is a duration rather than a date, and m is a
// month unless hours or seconds are shown.
func classifyFormat(code string) dateKind {
	code = strings.ToLower(code)
	if i := strings.IndexByte(code, ';'); i >= 0 {
		code = code[:i]
	}
	var b strings.Builder
	for i := 0; i < len(code); i++ {
		switch c := code[i]; c {
		case '"':
			j := strings.IndexByte(code[i+1:], '"')
			if j < 0 {
				i = len(code)
			} else {
				i += j + 1
			}
		case '[':
			j := strings.IndexByte(code[i+1:], ']')
			if j < 0 {
				return notDate
			}
			inner := code[i+1 : i+1+j]
			if strings.Trim(inner, "hms") == "" {
				return notDate
			}
			i += j + 1
		case '\\', '_', '*':
			i++
		default:
			b.WriteByte(c)
		}
	}
	s := strings.NewReplacer("general", "", "am/pm", "", "a/p", "").Replace(b.String())
	hasTime := strings.ContainsAny(s, "hs")
	hasDate := strings.ContainsAny(s, "yd") || strings.Contains(s, "m") && !hasTime
	switch {
	case hasDate && hasTime:
		return dateTime
	case hasDate:
		return dateOnly
	case hasTime:
		return timeOnly
	}
	return notDate
}

// excelDate renders a serial day number in ISO 8601, as much of it as the
// cell's format shows (ExcelSerialTime says which serials are days). A
// time-only format shows the time of day of any serial that is not
// negative, as Excel does: its cells hold a time alone as a serial below 1,
// which is no day, so the time is read on day 1.
func excelDate(v string, k dateKind, date1904 bool) (string, bool) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return "", false
	}
	if k == timeOnly && f >= 0 && f < 2958466 { // up to 10000-01-01, as ExcelSerialTime
		f = f - math.Floor(f) + 1
	}
	tm, ok := ExcelSerialTime(f, date1904)
	if !ok {
		return "", false
	}
	switch k {
	case dateOnly:
		return tm.Format("2006-01-02"), true
	case timeOnly:
		return tm.Format("15:04:05"), true
	}
	return tm.Format("2006-01-02T15:04:05"), true
}
