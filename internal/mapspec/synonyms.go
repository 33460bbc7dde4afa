package mapspec

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// foreignSynonyms are header spellings in French, German, Spanish, Dutch,
// Italian and Portuguese (normalised like normHeader: lower case, accents
// folded, words separated by single spaces). Customers export from CRMs set
// to their own language, and a "Vorname" column is as plain a first name as
// "First Name". A word that means different fields in different languages
// ("nome" is a first name in Italian, "nom" a surname in French) goes with
// the language that writes it that way.
var foreignSynonyms = []synonym{
	{"contact", "first_name", []string{
		"prenom", "vorname", "nombre", "nombre de pila", "voornaam", "nome", "primeiro nome", "nome proprio", "roepnaam",
	}},
	{"contact", "last_name", []string{
		"nom", "nom de famille", "nachname", "familienname", "zuname", "apellido", "apellidos", "primer apellido",
		"achternaam", "familienaam", "cognome", "sobrenome", "apelido", "ultimo nome",
	}},
	{"contact", "full_name", []string{
		"nom complet", "nom et prenom", "vollstandiger name", "nombre completo", "volledige naam", "naam",
		"nome completo", "nominativo", "ragione sociale contatto",
	}},
	{"contact", "title", []string{
		"civilite", "anrede", "tratamiento", "aanhef", "titel", "titolo", "tratamento", "saudacao",
	}},
	{"contact", "emails", []string{
		"courriel", "adresse email", "adresse e mail", "adresse electronique", "mel", "e mail adresse", "email adresse",
		"correo", "correo electronico", "email personal", "e mailadres", "emailadres", "indirizzo email", "indirizzo e mail",
		"posta elettronica", "endereco de email", "endereco de e mail", "correio eletronico",
	}},
	{"contact", "phones", []string{
		"telephone", "tel", "telephone portable", "portable", "mobile", "numero de telephone", "telefon", "telefonnummer",
		"handy", "mobil", "mobiltelefon", "mobilnummer", "telefono", "telefono movil", "movil", "celular", "telefoonnummer",
		"telefoon", "mobiel", "mobiele telefoon", "gsm", "cellulare", "numero di telefono", "telemovel", "telefone",
	}},
	{"contact", "company", []string{
		"societe", "entreprise", "organisation", "firma", "unternehmen", "firmenname", "empresa", "compania", "organizacion",
		"bedrijf", "bedrijfsnaam", "organisatie", "azienda", "societa", "ditta", "organizzazione", "companhia", "organizacao",
	}},
	{"contact", "address_line1", []string{
		"adresse", "rue", "adresse 1", "adresse ligne 1", "strasse", "anschrift", "strasse und hausnummer", "direccion",
		"calle", "domicilio", "direccion 1", "adres", "straat", "straatnaam", "adresregel 1", "indirizzo", "via",
		"indirizzo 1", "morada", "endereco", "rua", "logradouro",
	}},
	{"contact", "address_line2", []string{
		"adresse 2", "complement d adresse", "adresse ligne 2", "adresszusatz", "direccion 2", "adresregel 2",
		"indirizzo 2", "morada 2", "complemento", "endereco 2",
	}},
	{"contact", "town", []string{
		"ville", "commune", "localite", "ort", "stadt", "wohnort", "ciudad", "localidad", "poblacion", "municipio",
		"plaats", "woonplaats", "stad", "citta", "comune", "localita", "cidade", "localidade", "concelho",
	}},
	{"contact", "county", []string{
		"departement", "region", "bundesland", "kanton", "provincia", "comunidad autonoma", "provincie", "regione",
		"distrito", "estado",
	}},
	{"contact", "postcode", []string{
		"code postal", "cp", "plz", "postleitzahl", "codigo postal", "cod postal", "postcode", "cap", "codice postale",
		"codigo de postal",
	}},
	{"contact", "country", []string{"pays", "land", "pais", "paese", "nazione"}},
	{"contact", "tags", []string{"etiquettes", "etiquette", "schlagworte", "etiketten", "etiquetas", "etichette"}},
	{"contact", "notes", []string{
		"remarques", "commentaire", "commentaires", "notizen", "notiz", "bemerkungen", "kommentar", "notas", "comentarios",
		"observaciones", "opmerkingen", "notities", "note", "commenti", "observacoes",
	}},
	{"contact", "created_at", []string{
		"date de creation", "cree le", "erstellt am", "erstellungsdatum", "angelegt am", "fecha de creacion", "fecha alta",
		"aangemaakt op", "aanmaakdatum", "data di creazione", "creato il", "data de criacao", "criado em",
	}},
	{"contact", "updated_at", []string{
		"date de modification", "modifie le", "geandert am", "anderungsdatum", "fecha de modificacion",
		"gewijzigd op", "data di modifica", "modificato il", "data de modificacao", "atualizado em",
	}},
	{"contact", "marketing_consent", []string{
		"consentement", "opt in newsletter", "einwilligung", "newsletter einwilligung", "consentimiento",
		"toestemming", "consenso", "consentimento",
	}},
}

// foldAccents removes diacritics (é -> e, ß -> ss) so that headers match
// whether or not an export kept its accents.
func foldAccents(s string) string {
	s = strings.NewReplacer("ß", "ss", "ẞ", "ss", "æ", "ae", "Æ", "ae", "œ", "oe", "Œ", "oe", "ø", "o", "Ø", "o").Replace(s)
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func init() {
	synonyms = append(synonyms, foreignSynonyms...)
	for i := range synonyms {
		for j, n := range synonyms[i].names {
			synonyms[i].names[j] = normHeader(n)
		}
	}
}
