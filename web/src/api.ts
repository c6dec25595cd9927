// The gateway's HTTP API: create and look up meetings.

export interface MeetingInfo {
  id: string;
  url: string;
  title: string;
  createdAtMs: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

async function call(method: string, path: string, body?: unknown): Promise<MeetingInfo> {
  const res = await fetch(path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let json: unknown = null;
  try {
    json = await res.json();
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? res.statusText);
  }
  return json as MeetingInfo;
}

export function createMeeting(title = ""): Promise<MeetingInfo> {
  return call("POST", "/api/meetings", title ? { title } : {});
}

export function getMeeting(id: string): Promise<MeetingInfo> {
  return call("GET", `/api/meetings/${encodeURIComponent(id)}`);
}
