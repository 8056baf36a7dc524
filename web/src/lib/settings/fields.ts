// One editable object's fields, as a form shows them. Values are what the API takes (minutes,
// days, ids), so a form's values go to the API as they are.
export type Value = string | number | boolean | null | string[];
export type Values = Record<string, Value>;

export interface Choice {
  value: string;
  label: string;
}

export type Field =
  | { name: string; label: string; kind: "text"; optional?: boolean }
  | { name: string; label: string; kind: "number"; min: number; max: number; optional?: boolean }
  | { name: string; label: string; kind: "time" }
  | { name: string; label: string; kind: "checkbox" }
  | { name: string; label: string; kind: "select"; choices: Choice[] }
  | { name: string; label: string; kind: "choices"; choices: Choice[] };

/** A read of one object: its fields and the version an edit must name (If-Match). */
export interface Versioned {
  values: Values;
  version: string;
}
