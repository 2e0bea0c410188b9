/**
 * Read-only views of an audit package: its report and its executed notebook,
 * served by the cmlops server as sandboxed pages (never opened as JupyterLab
 * documents, so nothing — not even `.ipynb_checkpoints/` — is written into
 * the package).
 */
import { ILabShell } from '@jupyterlab/application';
import { MainAreaWidget } from '@jupyterlab/apputils';
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { IFrame } from '@jupyterlab/ui-components';

export type PackageView = 'report' | 'notebook';
export type ViewOpener = (packageId: string, view: PackageView) => void;

const LABELS: Record<PackageView, string> = { report: 'Report', notebook: 'Notebook' };

/** The URL of a view (the server checks the id; the browser sends its session cookie). */
export function viewUrl(packageId: string, view: PackageView): string {
  const settings = ServerConnection.makeSettings();
  return URLExt.join(
    settings.baseUrl, 'cmlops', 'api', 'packages', encodeURIComponent(packageId), 'view', view
  );
}

/** An opener that shows each view once in the main area (activated again if open). */
export function packageViewOpener(shell: ILabShell): ViewOpener {
  const open = new Map<string, MainAreaWidget<IFrame>>();
  return (packageId: string, view: PackageView) => {
    const key = `${view}:${packageId}`;
    const existing = open.get(key);
    if (existing && !existing.isDisposed) {
      existing.content.url = viewUrl(packageId, view); // reload: the package may have changed
      shell.activateById(existing.id);
      return;
    }
    // Scripts run (plotly figures) in an opaque origin: no cookies, no API, no network.
    const frame = new IFrame({ sandbox: ['allow-scripts'], referrerPolicy: 'no-referrer' });
    frame.url = viewUrl(packageId, view);
    const widget = new MainAreaWidget({ content: frame });
    widget.id = `cmlops-view-${view}-${packageId}`.replace(/[^A-Za-z0-9_-]/g, '_');
    widget.title.label = `${LABELS[view]} · ${packageId} (read-only)`;
    widget.title.caption = `Read-only view of package ${packageId}: nothing is written into it`;
    widget.title.closable = true;
    widget.addClass('cmlops-package-view');
    widget.node.dataset.package = packageId;
    widget.node.dataset.view = view;
    open.set(key, widget);
    widget.disposed.connect(() => open.delete(key));
    shell.add(widget, 'main');
    shell.activateById(widget.id);
  };
}
