import { useId, type ReactNode } from "react";
import { ProblemBox } from "./ProblemBox";
import type { Action } from "./useApi";

export interface Column<T> {
  label: string;
  cell: (row: T) => ReactNode;
}

export function Table<T>({ caption, rows, columns, rowKey }: {
  caption: string;
  rows: T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
}) {
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>{columns.map((c) => <th key={c.label} scope="col">{c.label}</th>)}</tr>
      </thead>
      <tbody>
        {rows.length === 0 ? (
          <tr><td colSpan={columns.length}>Nothing yet.</td></tr>
        ) : (
          rows.map((row) => (
            <tr key={rowKey(row)}>{columns.map((c) => <td key={c.label}>{c.cell(row)}</td>)}</tr>
          ))
        )}
      </tbody>
    </table>
  );
}

export function Field({ label, value, onChange, type = "text", required = false, placeholder }: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  type?: string;
  required?: boolean;
  placeholder?: string;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} type={type} value={value} required={required} placeholder={placeholder}
        onChange={(e) => onChange(e.target.value)} />
    </div>
  );
}

export function Select({ label, value, onChange, options }: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  options: { value: string; label: string }[];
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {options.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
      </select>
    </div>
  );
}

/** A form whose submit runs an action; shows the action's problem or success message below it. */
export function ActionForm({ title, action, onSubmit, submit, children }: {
  title: string;
  action: Action;
  onSubmit: () => void;
  submit: string;
  children: ReactNode;
}) {
  return (
    <form aria-label={title} className="card" onSubmit={(e) => { e.preventDefault(); onSubmit(); }}>
      <h3>{title}</h3>
      {children}
      <button type="submit" disabled={action.busy}>{submit}</button>
      <ProblemBox problem={action.problem} />
      {action.message ? <p role="status" className="ok">{action.message}</p> : null}
    </form>
  );
}

export function Status({ value }: { value: string | null | undefined }) {
  const text = value ?? "—";
  return <span className={`status status-${text.toLowerCase()}`}>{text}</span>;
}

/** What a button's action answered: its problem, or its success message. */
export function ActionResult({ action }: { action: Action }) {
  return (
    <>
      <ProblemBox problem={action.problem} />
      {action.message ? <p role="status" className="ok">{action.message}</p> : null}
    </>
  );
}
