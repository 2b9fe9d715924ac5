// The portal session token: read once from the link's fragment (#session=portal_…), kept in sessionStorage
// (gone when the tab closes) and removed from the address bar, so it is neither bookmarked nor shared by
// copying the URL. The fragment never reaches a server, so the token is in no access log either.

const STORAGE_KEY = "tollgate.portal.session";
const PREFIX = "portal_";

export function takeSessionToken(location: Location = window.location, history: History = window.history): string | null {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
  const fromLink = fragment.get("session");
  if (fromLink !== null) {
    history.replaceState(null, "", location.pathname + location.search);
    if (fromLink.startsWith(PREFIX)) {
      sessionStorage.setItem(STORAGE_KEY, fromLink);
      return fromLink;
    }
  }
  const kept = sessionStorage.getItem(STORAGE_KEY);
  return kept && kept.startsWith(PREFIX) ? kept : null;
}

export function forgetSessionToken(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}
