import { useEffect, useMemo, useState } from "react";
import { ApiClient } from "../shared/api";
import { Console, type ConsoleContext } from "./context";
import { NAVIGATION, parseRoute } from "./nav";
import { canRead, canWrite } from "./roles";
import { SCREENS } from "./screens";
import { loadSession, saveSession, type Session } from "./session";
import { SignIn } from "./SignIn";

function useHash(): string {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const changed = () => setHash(window.location.hash);
    window.addEventListener("hashchange", changed);
    return () => window.removeEventListener("hashchange", changed);
  }, []);
  return hash;
}

export function App() {
  const [session, setSession] = useState<Session | null>(loadSession);
  const hash = useHash();
  const context = useMemo<ConsoleContext | null>(() => {
    if (!session) return null;
    return {
      api: new ApiClient(session),
      role: session.role,
      tenantId: session.tenantId,
      can: (area) => canWrite(session.role, area),
      go: (route) => { window.location.hash = `#/${route}`; },
    };
  }, [session]);
  if (!session || !context) {
    return <SignIn onSignedIn={(s) => { saveSession(s); setSession(s); }} />;
  }
  const signOut = () => { saveSession(null); setSession(null); };
  const sections = NAVIGATION.map((s) => ({ ...s, screens: s.screens.filter((x) => canRead(session.role, x.area)) }))
    .filter((s) => s.screens.length > 0);
  const { screen, item } = parseRoute(hash);
  const first = sections[0]?.screens[0]?.route ?? "";
  const current = sections.flatMap((s) => s.screens).find((x) => x.route === screen) ?? null;
  const View = SCREENS[current ? current.route : first];
  return (
    <Console.Provider value={context}>
      <div className="layout">
        <nav className="side" aria-label="Console">
          <strong>Tollgate</strong>
          {sections.map((section) => (
            <div key={section.label}>
              <h2>{section.label}</h2>
              {section.screens.map((s) => (
                <a key={s.route} href={`#/${s.route}`}
                  aria-current={(current?.route ?? first) === s.route ? "page" : undefined}>{s.label}</a>
              ))}
            </div>
          ))}
        </nav>
        <main>
          <header className="top">
            <span>Tenant <code>{session.tenantId}</code> · role <strong data-testid="role">{session.role}</strong></span>
            <button type="button" className="secondary" onClick={signOut}>Sign out</button>
          </header>
          {sections.length === 0 ? <p role="alert">This key ({session.role}) has no console access.</p> : null}
          {View ? <View item={item} /> : null}
        </main>
      </div>
    </Console.Provider>
  );
}
