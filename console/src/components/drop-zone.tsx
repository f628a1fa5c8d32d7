import { useState } from 'preact/hooks';

interface DropZoneProps {
  /** The file input's accessible name, e.g. "Normal images to upload". */
  label: string;
  hint: string;
  accept: string;
  multiple?: boolean;
  disabled?: boolean;
  onFiles: (files: File[]) => void;
}

/**
 * Files dropped onto the zone, or chosen with its button (a real file input, reachable by keyboard): both hand the
 * files over as they are; checking them is the caller's business.
 */
export function DropZone({ label, hint, accept, multiple = true, disabled, onFiles }: DropZoneProps) {
  const [over, setOver] = useState(false);
  return (
    <div
      class={`dropzone${over ? ' over' : ''}${disabled ? ' disabled' : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        if (!disabled) setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        const files = [...(e.dataTransfer?.files ?? [])];
        if (!disabled && files.length) onFiles(multiple ? files : files.slice(0, 1));
      }}
    >
      <svg class="dropzone-icon" viewBox="0 0 24 24" aria-hidden="true">
        <path
          d="M12 16V4m0 0-4 4m4-4 4 4M4 16v3a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-3"
          fill="none"
          stroke="currentColor"
          stroke-width="1.8"
          stroke-linecap="round"
          stroke-linejoin="round"
        />
      </svg>
      <p>{hint}</p>
      <label class={`button${disabled ? ' disabled' : ''}`}>
        {multiple ? 'Choose files' : 'Choose a file'}
        <input
          type="file"
          class="visually-hidden"
          aria-label={label}
          accept={accept}
          multiple={multiple}
          disabled={disabled}
          onChange={(e) => {
            const input = e.currentTarget;
            const files = [...(input.files ?? [])];
            input.value = '';
            if (files.length) onFiles(files);
          }}
        />
      </label>
    </div>
  );
}
