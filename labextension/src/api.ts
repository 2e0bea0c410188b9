/** Requests to the cmlops server API, with Jupyter's auth and XSRF handled by ServerConnection. */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { StoreAdvice } from './types';

/** An error reply of the API: message, and the fix when the server knows one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly advice: StoreAdvice
  ) {
    super(advice.message);
  }
}

export async function requestAPI<T>(
  endpoint: string,
  init: RequestInit = {},
  query: Record<string, string | number | string[] | undefined> = {}
): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const params = Object.entries(query)
    .flatMap(([k, v]) => (Array.isArray(v) ? v.map(item => [k, item]) : [[k, v]]))
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${encodeURIComponent(String(k))}=${encodeURIComponent(String(v))}`)
    .join('&');
  let url = URLExt.join(settings.baseUrl, 'cmlops', 'api', endpoint);
  if (params) {
    url += '?' + params;
  }
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ApiError(0, {
      message: 'The Jupyter server cannot be reached.',
      fix: 'Check that the server is running, then reload the panel.'
    });
  }
  const text = await response.text();
  let data: any = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const advice: StoreAdvice = (data && data.error) || {
      message:
        response.status === 404
          ? 'The cmlops server extension is not enabled on this Jupyter server.'
          : `Request failed (${response.status}).`,
      fix:
        response.status === 404
          ? 'Run "jupyter server extension enable cmlops" and restart JupyterLab.'
          : undefined
    };
    throw new ApiError(response.status, advice);
  }
  return data as T;
}

export function postAPI<T>(endpoint: string, body: unknown = {}): Promise<T> {
  return requestAPI<T>(endpoint, { method: 'POST', body: JSON.stringify(body) });
}
