import {
  BarElement, CategoryScale, Chart as ChartJS, Legend, LinearScale, LineElement, PointElement, Tooltip,
} from "chart.js";
import { Bar, Line } from "react-chartjs-2";

ChartJS.register(BarElement, CategoryScale, LinearScale, LineElement, PointElement, Tooltip, Legend);

export interface Series {
  label: string;
  values: number[];
}

/** A labelled chart (bar or line) with the same numbers as a table for screen readers. */
export function Chart({ title, labels, series, kind = "bar" }: {
  title: string;
  labels: string[];
  series: Series[];
  kind?: "bar" | "line";
}) {
  const data = {
    labels,
    datasets: series.map((s, i) => ({
      label: s.label,
      data: s.values,
      backgroundColor: PALETTE[i % PALETTE.length],
      borderColor: PALETTE[i % PALETTE.length],
    })),
  };
  const options = { responsive: true, maintainAspectRatio: false, animation: false as const };
  return (
    <figure className="chart" aria-label={title}>
      <figcaption>{title}</figcaption>
      <div className="chart-canvas" role="img" aria-label={`${title}: ${series.map((s) => s.label).join(", ")}`}>
        {kind === "bar" ? <Bar data={data} options={options} /> : <Line data={data} options={options} />}
      </div>
    </figure>
  );
}

const PALETTE = ["#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed"];
