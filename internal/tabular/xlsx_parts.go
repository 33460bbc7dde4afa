package tabular

// The package's parts: a zip entry read under the limits, its XML
// decoder, the relationships that say where each part is, and the
// workbook part that lists the sheets.

import (
	"archive/zip"
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/cutover/cutover/internal/cutover"
)

// part is one zip entry being decompressed under the limits.
type part struct {
	wb    *workbook
	f     *zip.File
	rc    io.ReadCloser
	n     int64
	token int64 // bytes since the decoder last returned a token
}

func (wb *workbook) open(p string) (*part, error) {
	f := wb.files[strings.ToLower(strings.TrimPrefix(p, "/"))]
	if f == nil {
		return nil, nil
	}
	if int64(f.UncompressedSize64) > wb.lim.UncompressedBytes || f.UncompressedSize64 > 1<<63-1 {
		return nil, wb.limitError("%s declares %d bytes uncompressed, over the limit of %d", f.Name, f.UncompressedSize64, wb.lim.UncompressedBytes)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, wb.corrupt(err, fmt.Sprintf("%s cannot be opened", f.Name))
	}
	return &part{wb: wb, f: f, rc: rc}, nil
}

// Read counts what comes out of the decompressor: the zip headers'
// sizes can lie, the byte count cannot.
func (p *part) Read(b []byte) (int, error) {
	n, err := p.rc.Read(b)
	p.n += int64(n)
	p.token += int64(n)
	lim := p.wb.lim
	if t := p.wb.total.Add(int64(n)); t > lim.UncompressedBytes {
		return 0, p.wb.limitError("its parts expand to more than %d bytes", lim.UncompressedBytes)
	}
	if p.n > 1<<20 && p.n > lim.Ratio*max(int64(p.f.CompressedSize64), 1) {
		return 0, p.wb.limitError("%s expands more than %d times its compressed size", p.f.Name, lim.Ratio)
	}
	// encoding/xml holds a whole token in memory; a token larger than a
	// record is either a bomb or a cell over the cap.
	if p.token > int64(p.wb.maxRecord)+64<<10 {
		return 0, cutover.Errorf(cutover.EINVALID, "%s, %s: an XML element is longer than the record limit of %d bytes.", fileName(p.wb.name), p.f.Name, p.wb.maxRecord)
	}
	if err != nil && err != io.EOF {
		return n, p.wb.corrupt(err, fmt.Sprintf("%s is damaged", p.f.Name))
	}
	return n, err
}

func (p *part) Close() error { return p.rc.Close() }

// decoder reads a part token by token, resetting the per-token count.
type decoder struct {
	p *part
	d *xml.Decoder
}

func (wb *workbook) decoder(p *part) *decoder {
	return &decoder{p: p, d: xml.NewDecoder(p)}
}

func (d *decoder) token() (xml.Token, error) {
	tok, err := d.d.RawToken()
	d.p.token = 0
	if err != nil && err != io.EOF {
		return nil, d.p.wb.corrupt(err, fmt.Sprintf("%s is not well-formed XML", d.p.f.Name))
	}
	return tok, err
}

func attr(e xml.StartElement, local string) string {
	for _, a := range e.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// relations is a part's relationships file: targets by id, and the first
// target by type.
type relations struct {
	byID   map[string]string
	byKind map[string]string
}

func (r relations) byType(suffix string) string {
	for k, v := range r.byKind {
		if strings.HasSuffix(k, suffix) {
			return v
		}
	}
	return ""
}

func (r relations) byTypeOr(suffix, fallback string) string {
	if v := r.byType(suffix); v != "" {
		return v
	}
	return fallback
}

func (wb *workbook) rels(p, base string) (relations, error) {
	r := relations{byID: map[string]string{}, byKind: map[string]string{}}
	pr, err := wb.open(p)
	if pr == nil || err != nil {
		return r, err
	}
	defer pr.Close()
	d := wb.decoder(pr)
	for {
		tok, err := d.token()
		if err == io.EOF {
			return r, nil
		}
		if err != nil {
			return r, err
		}
		e, ok := tok.(xml.StartElement)
		if !ok || e.Name.Local != "Relationship" || attr(e, "TargetMode") == "External" {
			continue
		}
		target := attr(e, "Target")
		if strings.HasPrefix(target, "/") {
			target = path.Clean(target[1:])
		} else {
			target = path.Join(base, target)
		}
		r.byID[attr(e, "Id")] = target
		if k := attr(e, "Type"); r.byKind[k] == "" {
			r.byKind[k] = target
		}
	}
}

type sheetRef struct {
	name, rid string
	hidden    bool
}

func (wb *workbook) readWorkbook(p string) ([]sheetRef, error) {
	pr, err := wb.open(p)
	if err != nil {
		return nil, err
	}
	if pr == nil {
		return nil, wb.corrupt(nil, "it has no "+p)
	}
	defer pr.Close()
	d := wb.decoder(pr)
	var sheets []sheetRef
	for {
		tok, err := d.token()
		if err == io.EOF {
			return sheets, nil
		}
		if err != nil {
			return nil, err
		}
		e, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch e.Name.Local {
		case "workbookPr":
			v := attr(e, "date1904")
			wb.date1904 = v == "1" || v == "true"
		case "sheet":
			s := sheetRef{name: attr(e, "name"), hidden: attr(e, "state") != "" && attr(e, "state") != "visible"}
			for _, a := range e.Attr {
				if a.Name.Local == "id" && a.Name.Space != "" {
					s.rid = a.Value
				}
			}
			sheets = append(sheets, s)
		}
	}
}
