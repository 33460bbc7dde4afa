package mapspec

// The conversions: the steps that make a value of a field's type
// canonical (a date, a number, money, a phone number, an e-mail address,
// yes/no). Each has its own file, as the standard library splits
// time/format*.go: convert_date.go, convert_number.go (numbers and
// money), convert_email.go, convert_phone.go and convert_bool.go. This
// file says which op converts to which type; steps.go compiles them.

import "github.com/cutover/cutover/internal/schema"

// conversionOps are the ops that convert, and the field types each may feed.
var conversionOps = map[string][]schema.Type{
	"boolean": {schema.Boolean},
	"number":  {schema.Number, schema.Integer},
	"money":   {schema.Money},
	opAmount:  {schema.Money},
	"date":    {schema.Date, schema.DateTime},
	"email":   {schema.Email},
	"phone":   {schema.Phone},
}

// conversionFor returns the op that makes a value of type t canonical, or "".
func conversionFor(t schema.Type) string {
	switch t {
	case schema.Boolean:
		return "boolean"
	case schema.Number, schema.Integer:
		return "number"
	case schema.Money:
		return "money"
	case schema.Date, schema.DateTime:
		return "date"
	case schema.Email:
		return "email"
	case schema.Phone:
		return "phone"
	}
	return ""
}
