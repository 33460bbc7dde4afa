package engine

import (
	"context"
	"fmt"
	"slices"

	"github.com/cutover/cutover/internal/cutover"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/pass"
	"github.com/cutover/cutover/internal/tabular"
)

// FileFormatInput is how the customer wants one uploaded file read: an
// encoding name (one of tabular.SupportedEncodings, or an alias) and a
// delimiter ("," ";" "|" "tab"); "" for either means detect.
type FileFormatInput struct {
	Encoding  string `json:"encoding"`
	Delimiter string `json:"delimiter"`
}

// delimiters are the choices the site offers and the API accepts.
var delimiters = map[string]string{"": "", ",": ",", ";": ";", "|": "|", "tab": "\t", "\t": "\t"}

// SetFileFormat stores how a file of the round being prepared is to be
// read. Detection cannot always tell a legacy code page for sure (and
// refuses to guess then), and a person who knows their export was saved
// as Shift_JIS or with semicolons should not have to re-export it: the
// choice is kept on the file, and the proposal, the test migration and
// the final migration all read the file with it.
//
// Errors: ENOTFOUND when the migration has no such file; EINVALID for an
// encoding or delimiter that is not supported (the message lists the
// choices); ECONFLICT when the file belongs to a round already submitted,
// whose reading was signed off as it was; EUNAVAILABLE from the store.
func (s *Customer) SetFileFormat(ctx context.Context, m *cutover.Migration, fileID string, in FileFormatInput) (*cutover.File, error) {
	if len(in.Encoding) > cutover.MaxEncodingNameBytes {
		return nil, cutover.Errorf(cutover.EINVALID, "The encoding name is %d bytes long; at most %d are allowed.", len(in.Encoding), cutover.MaxEncodingNameBytes)
	}
	enc, err := tabular.CanonicalEncoding(in.Encoding)
	if err != nil {
		return nil, err
	}
	delim, ok := delimiters[in.Delimiter]
	if !ok || len(delim) > cutover.MaxDelimiterBytes {
		return nil, cutover.Errorf(cutover.EINVALID, "The delimiter %q is not one the reader can be told to use: choose \",\", \";\", \"|\" or \"tab\", or leave it empty to detect it.", in.Delimiter)
	}
	f := m.FileByID(fileID)
	if f == nil {
		return nil, cutover.Errorf(cutover.ENOTFOUND, "No upload %q in this migration.", fileID)
	}
	if err := formatEditable(m, *f); err != nil {
		return nil, err
	}
	var out cutover.File
	_, err = s.Update(ctx, m.ID, func(cur *cutover.Migration) ([]cutover.AuditEvent, error) {
		i := slices.IndexFunc(cur.Files, func(cf cutover.File) bool { return cf.ID == fileID })
		if i < 0 {
			return nil, cutover.Errorf(cutover.ENOTFOUND, "No upload %q in this migration.", fileID)
		}
		if err := formatEditable(cur, cur.Files[i]); err != nil {
			return nil, err
		}
		cur.Files[i].Encoding, cur.Files[i].Delimiter = enc, delim
		out = cur.Files[i]
		return []cutover.AuditEvent{s.Event("customer", "file.format", fmt.Sprintf("%s read as %s, delimiter %s", out.Name, orDetected(enc), orDetected(delimiterLabel(delim))))}, nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// formatEditable says whether f belongs to the round the customer is still
// preparing.
func formatEditable(m *cutover.Migration, f cutover.File) error {
	if round, err := migration.UploadRound(m, f.Purpose); err != nil || round != f.Round {
		return cutover.Errorf(cutover.ECONFLICT, "%s belongs to a round that was already submitted; how it is read cannot change now.", f.Name)
	}
	return nil
}

func orDetected(s string) string {
	if s == "" {
		return "detected"
	}
	return s
}

func delimiterLabel(d string) string {
	if d == "\t" {
		return "tab"
	}
	return d
}

// guessFormat reads the start of f allowing an uncertain encoding, to show
// the reader's guess and its alternatives for a file refused for one.
//
// Errors: those of tabular.Open and of the file store.
func (s *base) guessFormat(ctx context.Context, f cutover.File) (tabular.Format, error) {
	rc, err := s.files.Open(ctx, f.Key)
	if err != nil {
		return tabular.Format{}, err
	}
	defer rc.Close()
	o := pass.ReadOptions(f, tabular.Options{AllowUncertainEncoding: true, MaxXLSX: s.ReadLimits})
	tables, err := tabular.Open(rc, f.Name, o)
	if err != nil {
		return tabular.Format{}, err
	}
	defer func() {
		for _, t := range tables {
			_ = t.Close()
		}
	}()
	return tables[0].Format(), nil
}
