package plugins

import "maps"

// Description is one operation as GET /api/v1/operations/ lists it, in
// EasyTHS's shape ({"name": "BuyOperation", "version", "description",
// "parameters": {"stock_code": {"type", "required", "description", …}}})
// with the English description, the side-effect flag and an example.
type Description struct {
	Name          string           `json:"name"`
	Version       string           `json:"version"`
	Description   string           `json:"description"`
	DescriptionEn string           `json:"description_en"`
	SideEffect    bool             `json:"side_effect"`
	Parameters    map[string]Param `json:"parameters"`
	// ParameterOrder lists the parameters as the schema declares them
	// (a JSON object has no order).
	ParameterOrder []string       `json:"parameter_order"`
	Example        map[string]any `json:"example"`
}

// Describe lists every operation by name, for GET /api/v1/operations/
// (whose count is len of the map).
func (r *Registry) Describe() map[string]Description {
	out := make(map[string]Description, len(r.plugins))
	for name, p := range r.plugins {
		out[name] = p.Describe()
	}
	return out
}

// Describe gives p's description.
func (p *Plugin) Describe() Description {
	params := make(map[string]Param, len(p.Params))
	for _, q := range p.Params {
		// Copies, so that a caller cannot change the schema through them.
		if q.Enum != nil {
			q.Enum = append([]any(nil), q.Enum...)
		}
		if q.Minimum != nil {
			q.Minimum = bound(*q.Minimum)
		}
		if q.Maximum != nil {
			q.Maximum = bound(*q.Maximum)
		}
		params[q.Name] = q
	}
	example := maps.Clone(p.Example)
	if example == nil {
		example = map[string]any{}
	}
	return Description{
		Name: p.Title, Version: p.Version, Description: p.Description, DescriptionEn: p.DescriptionEn,
		SideEffect: p.SideEffect, Parameters: params, ParameterOrder: p.paramNames(), Example: example,
	}
}
