/** The Edit and Delete buttons of a table row, named for screen readers by what they act on. */
export function RowActions({ name, onEdit, onDelete }: { name: string; onEdit: () => void; onDelete: () => void }) {
  return (
    <td class="row-actions">
      <button type="button" class="button secondary small" aria-label={`Edit ${name}`} onClick={onEdit}>
        Edit
      </button>
      <button type="button" class="button danger-outline small" aria-label={`Delete ${name}`} onClick={onDelete}>
        Delete
      </button>
    </td>
  );
}
