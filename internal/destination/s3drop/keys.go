package s3drop

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cutover/cutover/internal/cutover"
)

// tenantPlaceholder is replaced in Config.Prefix by the target's tenant.
const tenantPlaceholder = "{tenantId}"

// segment is s as one key segment: bytes of [A-Za-z0-9_-] are kept (but a
// leading "_", which would name cutover's own folders), every other byte
// becomes %XX. No segment can contain "/" or be "." or "..", and two
// names never make one segment (the escape is reversible).
func segment(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || (c == '_' && i > 0) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte("0123456789ABCDEF"[c>>4])
		b.WriteByte("0123456789ABCDEF"[c&15])
	}
	return b.String()
}

// unsegment reverses segment; ok is false for text segment cannot make.
func unsegment(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", false
		}
		b.WriteByte(byte(v))
		i += 2
	}
	out := b.String()
	return out, out != "" && segment(out) == s
}

// checkPrefix refuses a prefix that could escape or blur the layout.
//
// Errors: EINVALID saying what is wrong with it.
func checkPrefix(p string) error {
	if strings.HasPrefix(p, "/") || !utf8.ValidString(p) {
		return cutover.Errorf(cutover.EINVALID, "The S3 drop prefix %q must not start with \"/\" and must be UTF-8.", p)
	}
	for _, part := range strings.Split(strings.TrimSuffix(p, "/"), "/") {
		if part == "" || part == "." || part == ".." {
			return cutover.Errorf(cutover.EINVALID, "The S3 drop prefix %q has an empty, \".\" or \"..\" folder.", p)
		}
	}
	return nil
}

// checkTarget refuses a target the layout cannot place.
//
// Errors: EINVALID naming what is missing.
func checkTarget(t cutover.Target) error {
	switch {
	case t.Env != cutover.EnvTest && t.Env != cutover.EnvLive:
		return cutover.Errorf(cutover.EINVALID, "The S3 drop delivers to %q or %q, not %q.", cutover.EnvTest, cutover.EnvLive, t.Env)
	case t.TenantID == "" || t.MigrationID == "":
		return cutover.Errorf(cutover.EINVALID, "An S3 drop target needs a tenant and a migration.")
	case t.Round < 0 || (t.Env == cutover.EnvLive && t.Round != 0):
		return cutover.Errorf(cutover.EINVALID, "An S3 drop target's round must be 0 in LIVE and not negative in TEST, not %d.", t.Round)
	}
	return nil
}

// folder is the target's folder: every key of t starts with it.
func (d *Destination) folder(t cutover.Target) string {
	return strings.ReplaceAll(d.prefix, tenantPlaceholder, segment(t.TenantID)) +
		t.Env + "/" + segment(t.MigrationID) + "/round-" + strconv.Itoa(t.Round) + "/"
}

// objectName is the key, relative to the folder, of an entity's object
// whose batch id is batchID.
func objectName(entity, batchID string) string {
	return segment(entity) + "/" + batchID + objectSuffix
}

// entityOf is the entity of a record object's relative key; ok is false
// for a key that is not one (the manifest, a staged copy, anything else).
func entityOf(rel string) (string, bool) {
	dir, file, ok := strings.Cut(rel, "/")
	if !ok || strings.Contains(file, "/") || !strings.HasSuffix(file, objectSuffix) || file == objectSuffix {
		return "", false
	}
	return unsegment(dir)
}
