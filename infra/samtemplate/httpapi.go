package samtemplate

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/global"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
)

type globalFunction = global.Function

// noAuthorizer is SAM's way for a route to opt out of a DefaultAuthorizer.
const noAuthorizer = "NONE"

func (m *Model) buildHTTPAPIs(tpl *cloudformation.Template, raw *rawTemplate) error {
	apis := tpl.GetAllServerlessHttpApiResources()
	byID := map[string]*HTTPAPI{}
	defaults := map[string]string{}

	for _, id := range slices.Sorted(maps.Keys(apis)) {
		api, def, err := m.httpAPI(id, apis[id])
		if err != nil {
			return err
		}

		m.HTTPAPIs = append(m.HTTPAPIs, api)
		defaults[id] = def
	}

	for i := range m.HTTPAPIs {
		byID[m.HTTPAPIs[i].LogicalID] = &m.HTTPAPIs[i]
	}

	fns := tpl.GetAllServerlessFunctionResources()
	for _, fnID := range slices.Sorted(maps.Keys(fns)) {
		for _, evName := range slices.Sorted(maps.Keys(fns[fnID].Events)) {
			ev := fns[fnID].Events[evName]
			if ev.Type != "HttpApi" {
				continue
			}

			apiID, err := rawEventAPI(raw, fnID, evName)
			if err != nil {
				return err
			}

			api, ok := byID[apiID]
			if !ok {
				return fmt.Errorf("samtemplate: function %s event %s: ApiId %s is not an AWS::Serverless::HttpApi in the template", fnID, evName, apiID)
			}

			route, err := httpRoute(fnID, evName, ev, defaults[apiID], api)
			if err != nil {
				return err
			}

			api.Routes = append(api.Routes, route)
		}
	}

	for i := range m.HTTPAPIs {
		if err := checkRoutes(&m.HTTPAPIs[i]); err != nil {
			return err
		}
	}

	return nil
}

func (m *Model) httpAPI(id string, src *serverless.HttpApi) (HTTPAPI, string, error) {
	api := HTTPAPI{LogicalID: id, Name: m.StackName + "-" + id, ID: m.Names[id]}

	var defaultAuthorizer string

	if src.Auth != nil {
		defaultAuthorizer = deref(src.Auth.DefaultAuthorizer)

		auths, err := jwtAuthorizers(id, src.Auth.Authorizers)
		if err != nil {
			return api, "", err
		}

		api.Authorizers = auths
	}

	if c := src.CorsConfiguration; c != nil {
		switch {
		case c.CorsConfigurationObject != nil:
			o := c.CorsConfigurationObject
			api.CORS = &APICORS{
				AllowOrigins:     o.AllowOrigins,
				AllowMethods:     o.AllowMethods,
				AllowHeaders:     o.AllowHeaders,
				ExposeHeaders:    o.ExposeHeaders,
				MaxAgeSeconds:    deref(o.MaxAge),
				AllowCredentials: deref(o.AllowCredentials),
			}
		case c.Boolean != nil && *c.Boolean:
			api.CORS = &APICORS{AllowOrigins: []string{"*"}, AllowMethods: []string{"*"}, AllowHeaders: []string{"*"}}
		}

		if api.CORS != nil {
			for _, o := range api.CORS.AllowOrigins {
				if err := checkResolved("HTTP API "+id+" CorsConfiguration.AllowOrigins", o); err != nil {
					return api, "", fmt.Errorf("samtemplate: %w", err)
				}
			}
		}
	}

	return api, defaultAuthorizer, nil
}

// jwtAuthorizers reads SAM's HttpApi Auth.Authorizers map, which goformation
// leaves untyped. Only JWT authorizers are supported locally.
func jwtAuthorizers(apiID string, v any) ([]JWTAuthorizer, error) {
	if v == nil {
		return nil, nil
	}

	all, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("samtemplate: HTTP API %s: Auth.Authorizers is not a map", apiID)
	}

	var out []JWTAuthorizer

	for _, name := range slices.Sorted(maps.Keys(all)) {
		def, _ := all[name].(map[string]any)

		jwt, _ := field(def, "JwtConfiguration").(map[string]any)
		if jwt == nil {
			return nil, fmt.Errorf("samtemplate: HTTP API %s authorizer %s: only JWT authorizers are supported by the local stack", apiID, name)
		}

		a := JWTAuthorizer{Name: name}
		a.Issuer, _ = field(jwt, "issuer").(string)

		switch aud := field(jwt, "audience").(type) {
		case string:
			a.Audience = []string{aud}
		case []any:
			for _, x := range aud {
				s, _ := x.(string)
				a.Audience = append(a.Audience, s)
			}
		}

		switch src := field(def, "IdentitySource").(type) {
		case string:
			a.IdentitySources = []string{src}
		case []any:
			for _, x := range src {
				s, _ := x.(string)
				a.IdentitySources = append(a.IdentitySources, s)
			}
		case nil:
			a.IdentitySources = []string{"$request.header.Authorization"}
		}

		where := fmt.Sprintf("HTTP API %s authorizer %s", apiID, name)
		if a.Issuer == "" {
			return nil, fmt.Errorf("samtemplate: %s: JwtConfiguration has no issuer", where)
		}

		for _, s := range append([]string{a.Issuer}, a.Audience...) {
			if err := checkResolved(where, s); err != nil {
				return nil, fmt.Errorf("samtemplate: %w", err)
			}
		}

		out = append(out, a)
	}

	return out, nil
}

// field looks a key up case-insensitively (SAM spells JwtConfiguration's
// keys in lower case, CloudFormation in Pascal case).
func field(m map[string]any, key string) any {
	if v, ok := m[key]; ok {
		return v
	}

	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}

	return nil
}

// rawEventAPI returns the logical id an HttpApi event's ApiId refers to. The
// resolved template no longer knows it (goformation resolves the !Ref), so
// it is read from the unresolved template.
func rawEventAPI(raw *rawTemplate, fnID, evName string) (string, error) {
	where := fmt.Sprintf("samtemplate: function %s event %s", fnID, evName)

	events, _ := raw.Resources[fnID].Properties["Events"].(map[string]any)
	ev, _ := events[evName].(map[string]any)
	props, _ := ev["Properties"].(map[string]any)

	switch ref := props["ApiId"].(type) {
	case nil:
		return "", fmt.Errorf("%s: no ApiId (SAM's implicit HTTP API is not supported by the local stack)", where)
	case map[string]any:
		if id, ok := ref["Ref"].(string); ok {
			return id, nil
		}
	}

	return "", fmt.Errorf("%s: ApiId must be a !Ref to an AWS::Serverless::HttpApi", where)
}

func httpRoute(fnID, evName string, ev serverless.Function_EventSource, defaultAuth string, api *HTTPAPI) (Route, error) {
	where := fmt.Sprintf("samtemplate: function %s event %s", fnID, evName)

	if ev.Properties == nil || ev.Properties.HttpApiEvent == nil {
		return Route{}, fmt.Errorf("%s: goformation could not read it as an HttpApi event", where)
	}

	h := ev.Properties.HttpApiEvent
	r := Route{
		Method:               strings.ToUpper(deref(h.Method)),
		Path:                 deref(h.Path),
		Function:             fnID,
		Event:                evName,
		Authorizer:           defaultAuth,
		PayloadFormatVersion: "2.0",
	}

	if r.Method == "" || r.Path == "" {
		return r, fmt.Errorf("%s: Method and Path are required (a catch-all $default route is not supported by the local stack)", where)
	}

	if h.PayloadFormatVersion != nil {
		r.PayloadFormatVersion = *h.PayloadFormatVersion
	}

	if h.Auth != nil && h.Auth.Authorizer != nil {
		r.Authorizer = *h.Auth.Authorizer
	}

	if r.Authorizer == noAuthorizer {
		r.Authorizer = ""
	}

	if r.Authorizer != "" {
		found := false

		for _, a := range api.Authorizers {
			found = found || a.Name == r.Authorizer
		}

		if !found {
			return r, fmt.Errorf("%s: authorizer %s is not defined on HTTP API %s", where, r.Authorizer, api.LogicalID)
		}
	}

	return r, nil
}

// checkRoutes rejects two events claiming the same route key and sorts the
// routes by key.
func checkRoutes(api *HTTPAPI) error {
	seen := map[string]Route{}
	for _, r := range api.Routes {
		if prev, ok := seen[r.RouteKey()]; ok {
			return fmt.Errorf("samtemplate: HTTP API %s: route %q is declared by both %s.%s and %s.%s",
				api.LogicalID, r.RouteKey(), prev.Function, prev.Event, r.Function, r.Event)
		}

		seen[r.RouteKey()] = r
	}

	sort.Slice(api.Routes, func(i, j int) bool { return api.Routes[i].RouteKey() < api.Routes[j].RouteKey() })

	return nil
}
