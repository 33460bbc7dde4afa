package chunk

import (
	"testing"

	"github.com/cutover/cutover/internal/tabular"
)

// FuzzChunks is the property the package exists for: whatever tabular
// reads as a whole file without an error, it reads chunk by chunk, as
// planned, as the same rows with the same lines.
func FuzzChunks(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n3,4\n",
		"id,note\r\n1,\"two\r\nlines\"\r\n2,\"say \"\"hi\"\"\"\r\n\r\n3,x\r\n",
		"\xEF\xBB\xBF\"h\nx\",y\n\"1\n\",2\n",
		"\n\r\nh\n\n1\n\r\n2",
		"h,i\na\"b,c\nd,e\"f\n\"g\"h\"i,j\n\"\"\"\n\",k\n",
		"Name;Note\nRen\xE9e;\x93q\x94\n\x80;\"\xE9\n\"\n",
		"a\tb\n1\t\"x\ny\"\n2\t\"\"\n",
		"a|b\r1|\"2\r3\"\r",
		"h\n1\r2\n\"3\r\n\"\n",
		" \n1\n#HEADER#\n",
		"\r\r\nh\n1\n",
		"a,b\n1;\"x\n2,y\"\n",
		"\"a\"\"\n\",b\n\"\",\"\"\"\"\n,\n",
		"#HEADER#\nEOF : '^'\nEOR : '~'\n#DEFINITION#\nA^B^~\n#DATA#\n1^2^~\n#END#\n",
		"\xFF\xFEa\x00,\x00b\x00\n\x001\x00,\x002\x00\n\x00",
	} {
		f.Add([]byte(s), uint8(0), uint8(0))
		f.Add([]byte(s), uint8(3), uint8(2))
	}
	f.Fuzz(func(t *testing.T, data []byte, target, mode uint8) {
		o := tabular.Options{Delimiter: []rune{0, 0, ',', ';', '\t', '|', ' '}[int(mode)%7]}
		if mode/7%2 == 1 {
			o.MaxFieldBytes, o.MaxRecordBytes = 64, 256
		}
		check(t, data, 1+int64(target%64), o)
	})
}
