// The customer portal page (/portal/): opened from a portal session link, /portal/#session=portal_…
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { loadWebConfig } from "../shared/config";
import "../shared/styles.css";
import "./portal.css";
import { App } from "./App";
import { takeSessionToken } from "./session";

const token = takeSessionToken(); // first: the token leaves the address bar before anything else runs

void loadWebConfig().then(() =>
  createRoot(document.getElementById("root") as HTMLElement).render(
    <StrictMode>
      <App token={token} />
    </StrictMode>,
  ),
);
