package lambdasize

import (
	"cmp"
	"debug/elf"
	"fmt"
	"slices"
	"strings"
)

// Share is the bytes a group of packages takes in a binary.
type Share struct {
	Group string
	Bytes int64
}

// Groups name the parts a function is made of, by symbol prefix, first
// match wins. Symbols that match none are grouped by their package path's
// first element ("std" for the standard library).
var Groups = []struct{ Prefix, Group string }{
	{"github.com/nyaruka/phonenumbers", "phonenumbers"},
	{"github.com/xeipuuv/", "gojsonschema"},
	{"github.com/santhosh-tekuri/jsonschema", "jsonschema (santhosh-tekuri)"},
	{"golang.org/x/text", "golang.org/x/text"},
	{"google.golang.org/protobuf", "protobuf (phonenumbers' metadata)"},
	{"github.com/aws/aws-sdk-go-v2/service/s3", "AWS SDK: s3"},
	{"github.com/aws/aws-sdk-go-v2/service/dynamodb", "AWS SDK: dynamodb"},
	{"github.com/aws/aws-sdk-go-v2/service/sesv2", "AWS SDK: sesv2"},
	{"github.com/aws/aws-sdk-go-v2/service/sfn", "AWS SDK: sfn"},
	{"github.com/aws/aws-sdk-go-v2/service/", "AWS SDK: other clients (sts, sso, ...)"},
	{"github.com/aws/aws-sdk-go-v2", "AWS SDK: core, config, credentials"},
	{"github.com/aws/smithy-go", "AWS SDK: core, config, credentials"},
	{"github.com/aws/aws-lambda-go", "aws-lambda-go"},
	{Module + "/internal/mapspec", "cutover: mapping engine"},
	{Module + "/internal/pipeline", "cutover: mapping engine"},
	{Module + "/internal/pass", "cutover: mapping engine"},
	{Module + "/internal/delta", "cutover: mapping engine"},
	{Module + "/internal/tabular", "cutover: mapping engine"},
	{Module + "/", "cutover: other packages"},
	{"go:func.", "runtime: function metadata (go:func.*)"},
	{"runtime.", "runtime"},
	{"type:", "type descriptors"},
	{"go:", "strings and other go: data"},
}

// Composition reads an unstripped ELF binary and returns what its symbols
// weigh by group (Groups), largest first, and, by section, the bytes no
// symbol accounts for (the pclntab's tables, DWARF, the symbol table
// itself, ...).
// Symbols in sections that take no room in the file (.bss, .noptrbss) are
// left out: they cost memory, not bytes of the bootstrap.
//
// It returns an error when bin is not an ELF file or has no symbol table.
func Composition(bin string) (shares []Share, sections []Share, err error) {
	f, err := elf.Open(bin)
	if err != nil {
		return nil, nil, fmt.Errorf("lambdasize: %w", err)
	}
	defer f.Close()

	syms, err := f.Symbols()
	if err != nil {
		return nil, nil, fmt.Errorf("lambdasize: %s: %w", bin, err)
	}

	byGroup := map[string]int64{}
	covered := map[string]int64{}

	for _, s := range syms {
		if int(s.Section) <= 0 || int(s.Section) >= len(f.Sections) {
			continue
		}

		sec := f.Sections[s.Section]
		if sec.Type == elf.SHT_NOBITS {
			continue
		}

		covered[sec.Name] += int64(s.Size)
		byGroup[group(s.Name)] += int64(s.Size)
	}

	for g, n := range byGroup {
		shares = append(shares, Share{g, n})
	}

	for _, s := range f.Sections {
		// FileSize, not Size: a compressed DWARF section's Size is its
		// uncompressed length.
		if rest := int64(s.FileSize) - covered[s.Name]; s.Type != elf.SHT_NOBITS && s.Type != elf.SHT_NULL && rest > 0 {
			sections = append(sections, Share{s.Name, rest})
		}
	}

	bySize := func(a, b Share) int { return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), strings.Compare(a.Group, b.Group)) }
	slices.SortFunc(shares, bySize)
	slices.SortFunc(sections, bySize)

	return shares, sections, nil
}

func group(sym string) string {
	for _, g := range Groups {
		if strings.HasPrefix(sym, g.Prefix) {
			return g.Group
		}
	}

	head := sym
	if i := strings.IndexByte(sym, '/'); i >= 0 {
		head = sym[:i]
		if strings.Contains(head, ".") {
			return head // a module's host, e.g. gopkg.in
		}
	}

	name, _, _ := strings.Cut(head, ".")

	return "std: " + name
}
