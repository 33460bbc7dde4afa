package receiver

import (
	"html/template"
	"net/http"
	"strconv"
)

// The listing shows what arrived, read-only and unsigned: it is the local
// stand-in for the joining product's own screens, for the person running
// the stack. It is not part of the destination contract.

// maxListed caps one listing; ?limit= asks for fewer or more up to it.
const maxListed = 500

// listRecords answers GET /records?tenant=&environment=&migration=&entity=&limit=
// with the newest matching records as JSON.
func (h *Handler) listRecords(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := filter{tenant: q.Get("tenant"), environment: q.Get("environment"), migration: q.Get("migration"), entity: q.Get("entity"), limit: 100}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxListed {
			writeError(w, http.StatusBadRequest, codeInvalid, "limit is a number from 1 to "+strconv.Itoa(maxListed)+".")
			return
		}
		f.limit = n
	}
	recs, err := h.store.list(r.Context(), f)
	if err != nil {
		h.opts.Logger.Error("list records", "err", err.Error())
		writeError(w, http.StatusInternalServerError, codeInternal, "The records could not be listed.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"records": recs})
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Reference receiver: what arrived</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;margin-bottom:2rem}
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}code{font-size:.85em}</style></head>
<body><h1>The product being joined (reference receiver)</h1>
<h2>Records per migration</h2>
{{if .Summary}}<table><tr><th>tenant</th><th>migration</th><th>environment</th><th>entity</th><th>records</th></tr>
{{range .Summary}}<tr><td>{{.TenantID}}</td><td>{{.MigrationID}}</td><td>{{.Environment}}</td><td>{{.Entity}}</td><td>{{.Count}}</td></tr>
{{end}}</table>{{else}}<p>Nothing has arrived yet.</p>{{end}}
<h2>Latest records</h2>
{{if .Records}}<table><tr><th>received</th><th>tenant</th><th>environment</th><th>migration</th><th>entity</th><th>id</th><th>source id</th><th>fields</th></tr>
{{range .Records}}<tr><td>{{.ReceivedAt}}</td><td>{{.TenantID}}</td><td>{{.Environment}}</td><td>{{.MigrationID}}</td><td>{{.Entity}}</td><td>{{.ID}}</td><td>{{.SourceID}}</td><td><code>{{printf "%s" .Fields}}</code></td></tr>
{{end}}</table>{{end}}
{{template "events" .}}
<p>As JSON: <a href="/records">/records</a> (?tenant=, environment=, migration=, entity=, limit=). Faults: <a href="/admin/faults">/admin/faults</a>.</p>
</body></html>`))

// page answers GET / with the counts per migration and the latest records.
func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	sum, err := h.store.summary(r.Context())
	var recs []Arrived
	if err == nil {
		recs, err = h.store.list(r.Context(), filter{limit: 50})
	}
	var evs []Event
	var modes []Maintenance
	if err == nil {
		evs, modes, err = h.store.events(r.Context(), "", "")
	}
	if err != nil {
		h.opts.Logger.Error("show records", "err", err.Error())
		writeError(w, http.StatusInternalServerError, codeInternal, "The records could not be listed.")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pageTemplate.Execute(w, map[string]any{"Summary": sum, "Records": recs, "Events": evs, "Maintenance": modes}); err != nil {
		h.opts.Logger.Error("write the page", "err", err.Error())
	}
}
