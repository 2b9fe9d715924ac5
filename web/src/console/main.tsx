import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { loadWebConfig } from "../shared/config";
import "../shared/styles.css";
import { App } from "./App";

void loadWebConfig().then(() =>
  createRoot(document.getElementById("root") as HTMLElement).render(
    <StrictMode>
      <App />
    </StrictMode>,
  ),
);
