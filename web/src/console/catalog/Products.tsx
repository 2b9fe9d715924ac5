import { useState } from "react";
import { dateTime } from "../../shared/format";
import { ActionForm, ActionResult, Field, Status, Table } from "../../shared/ui";
import { useAction, useLoad } from "../../shared/useApi";
import { useConsole } from "../context";
import { Link, Loading, ReadOnlyNote, ScreenTitle, useList, Pager } from "../common";
import type { Product } from "../types";
import { ProductGateway } from "./ProductGateway";

/** Catalog → Products: group plans; publish or archive; one product's gateway ("Restore to Gateway"). */
export function Products({ item }: { item: string | null }) {
  return item ? <ProductDetail productId={item} /> : <ProductList />;
}

function ProductDetail({ productId }: { productId: string }) {
  const { api } = useConsole();
  const product = useLoad(() => api.get<Product>(`/v1/products/${productId}`), [productId]);
  return (
    <section>
      <p><Link route="catalog/products">← Products</Link></p>
      <Loading loaded={product}>
        {(p) => (
          <>
            <ScreenTitle title={`Product ${p.name}`}><code>{p.id}</code> · <Status value={p.status} /> · {p.description}</ScreenTitle>
            <ProductGateway productId={p.id} />
          </>
        )}
      </Loading>
    </section>
  );
}

function ProductList() {
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
            { label: "Name", cell: (p) => <Link route={`catalog/products/${p.id}`}>{p.name}</Link> }, { label: "Id", cell: (p) => <code>{p.id}</code> },
            { label: "Status", cell: (p) => <Status value={p.status} /> }, { label: "Created", cell: (p) => dateTime(p.created_at) },
            { label: "Actions", cell: (p) => can("catalog") ? (
              <>
                {p.status !== "PUBLISHED" ? <button type="button" className="secondary" onClick={() => void setStatus(p, "PUBLISHED")}>Publish {p.name}</button> : null}
                {p.status !== "ARCHIVED" ? <button type="button" className="secondary" onClick={() => void setStatus(p, "ARCHIVED")}>Archive {p.name}</button> : null}
              </>) : null },
          ]} />
        )}
      </Loading>
      <Pager list={products} />
    </section>
  );
}
