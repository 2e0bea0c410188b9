/**
 * The report form's file picker: folders and files under the Jupyter root as the
 * server lists them (GET files). The server decides what may be listed (nothing
 * hidden, no link out of the root, no FIFO); the picker only ever sends and
 * receives paths relative to the root. Opened inline below its field; folders
 * navigate, a file is picked. A slow reply for a folder left meanwhile is dropped.
 */
import { ApiError, requestAPI } from './api';
import { clear, h } from './dom';
import { crumbs } from './form';
import { LatestOnly } from './latest';
import { FileEntry, FolderListing } from './types';

export type PickerKind = 'any' | 'plan';

export class FilePicker {
  readonly node: HTMLElement;
  private readonly latest = new LatestOnly();
  private readonly path = h('div', { class: 'cmlops-picker-path' });
  private readonly list = h('ul', { class: 'cmlops-picker-list', attrs: { role: 'listbox' } });
  private readonly note = h('div', { class: 'cmlops-muted cmlops-picker-note' });

  constructor(
    private readonly kind: PickerKind,
    label: string,
    private readonly onPick: (entry: FileEntry) => void
  ) {
    const close = h('button', {
      class: 'jp-Button jp-mod-minimal cmlops-picker-close',
      text: 'Close',
      attrs: { type: 'button' },
      on: { click: () => this.close() }
    });
    this.node = h('div', { class: 'cmlops-picker', attrs: { role: 'group', 'aria-label': label } },
      h('div', { class: 'cmlops-picker-head' }, this.path, close), this.list, this.note);
    this.node.hidden = true;
  }

  get isOpen(): boolean {
    return !this.node.hidden;
  }

  /** Show ``folder``; when it cannot be listed (gone, refused) and ``orRoot``, the root instead. */
  async open(folder = '', orRoot = false): Promise<void> {
    this.node.hidden = false;
    this.note.textContent = 'Loading…';
    try {
      const listing = await this.latest.run(signal =>
        requestAPI<FolderListing>('files', { signal }, { folder, kind: this.kind })
      );
      if (listing !== null) {
        this.render(listing);
      }
    } catch (error) {
      if (orRoot && folder !== '') {
        return this.open('');
      }
      clear(this.list);
      this.note.textContent =
        error instanceof ApiError ? error.advice.message : `Cannot list the folder: ${error}`;
      this.note.classList.add('cmlops-field-error');
    }
  }

  close(): void {
    this.latest.cancel();
    this.node.hidden = true;
  }

  private render(listing: FolderListing): void {
    this.note.classList.remove('cmlops-field-error');
    clear(this.path);
    for (const crumb of crumbs(listing.folder)) {
      this.path.append(h('button', {
        class: 'jp-Button jp-mod-minimal cmlops-crumb',
        text: crumb.label,
        attrs: { type: 'button', 'data-path': crumb.path },
        on: { click: () => void this.open(crumb.path) }
      }), h('span', { class: 'cmlops-muted', text: '/' }));
    }
    clear(this.list);
    for (const entry of listing.entries) {
      const folder = entry.type === 'folder';
      this.list.appendChild(h('li', {},
        h('button', {
          class: `jp-Button jp-mod-minimal cmlops-entry cmlops-entry-${entry.type}`,
          text: folder ? `${entry.name}/` : entry.name,
          title: entry.path,
          attrs: { type: 'button', role: 'option', 'data-path': entry.path },
          on: {
            click: () => {
              if (folder) {
                void this.open(entry.path);
              } else {
                this.onPick(entry);
                this.close();
              }
            }
          }
        })));
    }
    const what = this.kind === 'plan' ? 'plan files (.yaml, .yml, .json)' : 'files';
    this.note.textContent = listing.entries.length
      ? listing.truncated ? `The first ${listing.entries.length} entries are shown.` : ''
      : `No folders or ${what} here.`;
  }
}
