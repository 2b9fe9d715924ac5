// Placeholder: web-portal replaces this page (the customer portal opened from a portal session).
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "../shared/styles.css";

function Portal() {
  return (
    <main>
      <h1>Customer portal</h1>
      <p>Open this page from a portal session link.</p>
    </main>
  );
}

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <Portal />
  </StrictMode>,
);
