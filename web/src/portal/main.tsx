// The customer portal page (/portal/): opened from a portal session link, /portal/#session=portal_…
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "../shared/styles.css";
import "./portal.css";
import { App } from "./App";
import { takeSessionToken } from "./session";

const token = takeSessionToken();

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <App token={token} />
  </StrictMode>,
);
