import { useState } from "react";
import { dateTime } from "../../shared/format";
import { ActionForm, ActionResult, Field, Status, Table } from "../../shared/ui";
import { useAction } from "../../shared/useApi";
import { useConsole } from "../context";
import { Loading, ReadOnlyNote, ScreenTitle, useList } from "../common";
import type { Product } from "../types";

/** Catalog → Products: group plans; publish or archive. */
export function Products() {
  const { api, can } = useConsole();
  const products = useList<Product>("/v1/products");
  const create = useAction();
  const change = useAction();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const submit = async () => {
    if (await create.run(() => api.post("/v1/products", { name, description }), `Product ${name} created.`)) products.reload();
  };
  const setStatus = async (p: Product, status: string) => {
    if (await change.run(() => api.patch(`/v1/products/${p.id}`, { status }), `${p.name}: ${status}.`)) products.reload();
  };
  return (
    <section>
      <ScreenTitle title="Products" />
      {can("catalog") ? (
        <ActionForm title="New product" action={create} onSubmit={() => void submit()} submit="Create product">
          <div className="row">
            <Field label="Product name" value={name} onChange={setName} required />
            <Field label="Description" value={description} onChange={setDescription} />
          </div>
        </ActionForm>
      ) : <ReadOnlyNote area="the catalog" />}
      <ActionResult action={change} />
      <Loading loaded={products}>
        {(page) => (
          <Table caption="Products" rows={page.data} rowKey={(p) => p.id} columns={[
            { label: "Name", cell: (p) => p.name }, { label: "Id", cell: (p) => <code>{p.id}</code> },
            { label: "Status", cell: (p) => <Status value={p.status} /> }, { label: "Created", cell: (p) => dateTime(p.created_at) },
            { label: "Actions", cell: (p) => can("catalog") ? (
              <>
                {p.status !== "PUBLISHED" ? <button type="button" className="secondary" onClick={() => void setStatus(p, "PUBLISHED")}>Publish {p.name}</button> : null}
                {p.status !== "ARCHIVED" ? <button type="button" className="secondary" onClick={() => void setStatus(p, "ARCHIVED")}>Archive {p.name}</button> : null}
              </>) : null },
          ]} />
        )}
      </Loading>
    </section>
  );
}
