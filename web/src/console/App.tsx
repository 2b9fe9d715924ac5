export function App() {
  return (
    <main>
      <h1>Tollgate console</h1>
    </main>
  );
}
