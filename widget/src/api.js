// The service is the widget's only data source; the publishable key goes with every request.

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export function isAbort(error) {
  return error && error.name === "AbortError";
}

export function createApi({ base, key, signal }) {
  async function request(method, path, { params, body, signal: own } = {}) {
    const url = new URL(path, base);
    if (params) {
      for (const [name, value] of Object.entries(params)) {
        if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, String(value));
      }
    }
    const headers = { Accept: "application/json" };
    // Sent only when there is one: an open (keyless) service takes plain requests, and a
    // same-origin page then needs no preflight.
    if (key) headers.Authorization = `Bearer ${key}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: linked(signal, own),
      credentials: "omit",
    });
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }
  return {
    get: (path, params, signal) => request("GET", path, { params, signal }),
    post: (path, body, signal) => request("POST", path, { body, signal }),
  };
}

// One signal that aborts when either does: the widget's lifetime or one superseded request.
function linked(a, b) {
  if (!b) return a;
  if (!a) return b;
  const controller = new AbortController();
  const abort = () => controller.abort();
  if (a.aborted || b.aborted) abort();
  a.addEventListener("abort", abort, { once: true, signal: controller.signal });
  b.addEventListener("abort", abort, { once: true, signal: controller.signal });
  return controller.signal;
}
