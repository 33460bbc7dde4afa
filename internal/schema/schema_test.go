package schema

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/cutover"
)

func TestDefault(t *testing.T) {
	s := Default()
	want := []string{"contact", "property", "tenancy", "applicant", "appointment", "order", "company"}
	if got := strings.Join(s.EntityNames(), ","); got != strings.Join(want, ",") {
		t.Fatalf("entities = %s", got)
	}
	c, _ := s.Entity("contact")
	roles, ok := c.Field("roles")
	if !ok || roles.Type != List || roles.Of != Enum {
		t.Fatalf("roles = %+v", roles)
	}
	if v, ok := roles.EnumValue("LANDLORD"); !ok || v != "landlord" {
		t.Fatalf("EnumValue = %q %v", v, ok)
	}
	ten, _ := s.Entity("tenancy")
	tf, _ := ten.Field("tenants")
	if tf.ItemType() != Ref || tf.Ref != "contact" || !tf.Required {
		t.Fatalf("tenants = %+v", tf)
	}
	st, _ := ten.Field("status")
	if strings.Join(st.Values, ",") != "active,periodic,renewed,ended" {
		t.Fatalf("tenancy status = %v", st.Values)
	}
	for _, e := range s.Entities {
		for i, f := range e.Fields {
			if f.Index != i {
				t.Fatalf("%s.%s index %d", e.Name, f.Name, f.Index)
			}
		}
	}
}

// TestCompanyEntity checks the organisation entity vendor account and
// company exports map to: identified by a name or a domain, and linked
// from a contact by a reference, so both files of one migration join up.
func TestCompanyEntity(t *testing.T) {
	s := Default()
	co, ok := s.Entity("company")
	if !ok {
		t.Fatal("no company entity")
	}
	if got := strings.Join(co.AnyOf, ","); got != "name,domain" {
		t.Fatalf("company anyOf = %q, want name,domain", got)
	}
	for name, typ := range map[string]Type{
		"name": String, "domain": String, "phones": List, "emails": List, "address_line1": String, "town": String,
		"postcode": String, "country": String, "industry": String, "employees": Integer, "annual_revenue": Money,
		"owner": String, "created_at": DateTime, "notes": Text, "tags": List,
	} {
		f, ok := co.Field(name)
		if !ok || f.Type != typ {
			t.Errorf("company.%s = %+v (present %v), want type %s", name, f, ok, typ)
		}
	}
	c, _ := s.Entity("contact")
	ref, ok := c.Field("company_ref")
	if !ok || ref.Type != Ref || ref.Ref != "company" {
		t.Fatalf("contact.company_ref = %+v (present %v), want a ref to company", ref, ok)
	}
}

func TestLoadErrors(t *testing.T) {
	for name, tc := range map[string]struct{ src, want string }{
		"syntax":        {"{\n \"version\": 1,\n \"entities\": [}", "schema: line 3, column 15: invalid JSON"},
		"unknown key":   {"{\"version\":1,\"entitys\":[]}", `unknown field "entitys"`},
		"wrong type":    {`{"version":"1"}`, "version must be int, not a JSON string"},
		"empty":         {``, "schema: the file is empty or ends early"},
		"version":       {`{"version":2,"entities":[]}`, "schema: version: must be 1, not 2"},
		"no entities":   {`{"version":1,"entities":[]}`, "schema: entities: at least one entity is needed"},
		"bad type":      {`{"version":1,"entities":[{"name":"a","fields":[{"name":"x","type":"strng"}]}]}`, `schema: entities[0].fields[0].type: unknown type "strng" (want one of string, text, email, phone, date, datetime, number, integer, money, boolean, enum, ref, list)`},
		"list no of":    {`{"version":1,"entities":[{"name":"a","fields":[{"name":"x","type":"list"}]}]}`, `schema: entities[0].fields[0].of: a list needs "of"`},
		"enum empty":    {`{"version":1,"entities":[{"name":"a","fields":[{"name":"x","type":"enum"}]}]}`, "schema: entities[0].fields[0].values: an enum needs at least one value"},
		"enum dup":      {`{"version":1,"entities":[{"name":"a","fields":[{"name":"x","type":"enum","values":["A","a"]}]}]}`, `schema: entities[0].fields[0].values[1]: enum value "a" is listed twice`},
		"bad ref":       {`{"version":1,"entities":[{"name":"a","fields":[{"name":"x","type":"ref","ref":"b"}]}]}`, `schema: entities[0].fields[0].ref: unknown entity "b" (known: a)`},
		"dup field":     {`{"version":1,"entities":[{"name":"a","fields":[{"name":"x","type":"text"},{"name":"x","type":"text"}]}]}`, `schema: entities[0].fields[1].name: field "x" is defined twice in entity "a"`},
		"dup entity":    {`{"version":1,"entities":[{"name":"a","fields":[{"name":"x","type":"text"}]},{"name":"a","fields":[{"name":"x","type":"text"}]}]}`, `schema: entities[1].name: entity "a" is defined twice`},
		"bad name":      {`{"version":1,"entities":[{"name":"A b","fields":[{"name":"x","type":"text"}]}]}`, `schema: entities[0].name: "A b" is not a valid name`},
		"bad pattern":   {`{"version":1,"entities":[{"name":"a","fields":[{"name":"x","type":"string","pattern":"("}]}]}`, "schema: entities[0].fields[0].pattern: not a valid RE2 expression"},
		"anyOf":         {`{"version":1,"entities":[{"name":"a","anyOf":["y"],"fields":[{"name":"x","type":"text"}]}]}`, `schema: entities[0].anyOf[0]: entity "a" has no field "y"`},
		"identity":      {`{"version":1,"entities":[{"name":"a","identity":["y"],"fields":[{"name":"x","type":"text"}]}]}`, `schema: entities[0].identity[0]: entity "a" has no field "y"`},
		"notFuture":     {`{"version":1,"entities":[{"name":"a","fields":[{"name":"x","type":"text","notFuture":true}]}]}`, "schema: entities[0].fields[0].notFuture: applies only to date and datetime"},
		"values on str": {`{"version":1,"entities":[{"name":"a","fields":[{"name":"x","type":"text","values":["a"]}]}]}`, "schema: entities[0].fields[0].values: only an enum has values"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(strings.NewReader(tc.src))
			if cutover.ErrorCode(err) != cutover.EINVALID {
				t.Fatalf("err = %v, want EINVALID", err)
			}
			if !strings.Contains(cutover.ErrorMessage(err), tc.want) {
				t.Fatalf("message = %q, want it to contain %q", cutover.ErrorMessage(err), tc.want)
			}
		})
	}
}

func TestLoadRoundTrip(t *testing.T) {
	s, err := Load(strings.NewReader(string(DefaultJSON())))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Entities) != len(Default().Entities) {
		t.Fatal("round trip lost entities")
	}
}

// Every entity of the default schema says what identifies its records, and
// the contact's identity is a name, an e-mail or a phone: without it a bad
// secondary field could not be dropped while keeping the row.
func TestDefaultIdentity(t *testing.T) {
	s := Default()
	for _, e := range s.Entities {
		if len(e.Identity) == 0 {
			t.Errorf("entity %q has no identity list", e.Name)
		}
		for _, n := range e.Identity {
			if _, ok := e.Field(n); !ok {
				t.Errorf("entity %q: identity field %q does not exist", e.Name, n)
			}
		}
	}
	c, _ := s.Entity("contact")
	if got := strings.Join(c.Identity, ","); got != "first_name,last_name,full_name,emails,phones" {
		t.Fatalf("contact identity = %s", got)
	}
	// The older "anyOf" is still read, as the identity.
	old, err := Load(strings.NewReader(`{"version":1,"entities":[{"name":"a","anyOf":["x"],"fields":[{"name":"x","type":"text"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := old.Entity("a")
	if len(a.Identity) != 1 || a.Identity[0] != "x" {
		t.Fatalf("anyOf not read as identity: %v", a.Identity)
	}
}
