// Where the API is. Locally (`make run`) the pages and the API share one origin, so the base is "". On AWS
// the pages come from CloudFront and the API from API Gateway: the deployment writes `/config.json`
// (`{"api_url": "https://…/prod"}`, infra/constructs/web_hosting.py), read once at start.

export interface WebConfig {
  apiUrl: string;
}

let current: WebConfig = { apiUrl: "" };

export function webConfig(): WebConfig {
  return current;
}

export async function loadWebConfig(): Promise<WebConfig> {
  try {
    const response = await fetch("/config.json", { cache: "no-store" });
    if (response.ok) {
      const body: unknown = await response.json();
      const url = body && typeof body === "object" ? (body as Record<string, unknown>).api_url : undefined;
      if (typeof url === "string" && /^https:\/\/|^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(url)) {
        current = { apiUrl: url.replace(/\/+$/, "") };
      }
    }
  } catch {
    // no config.json: same origin
  }
  return current;
}
