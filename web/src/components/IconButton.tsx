/**
 * A button shown as a symbol: its label is its accessible name and its tooltip, and the
 * symbol is hidden from screen readers (it would be read out as "black pushpin" and the like).
 */
interface IconButtonProps {
  label: string;
  icon: string;
  onClick: () => void;
  className?: string;
}

export function IconButton({ label, icon, onClick, className }: IconButtonProps) {
  return (
    <button
      type="button"
      className={className ? `icon-button ${className}` : "icon-button"}
      aria-label={label}
      title={label}
      onClick={onClick}
    >
      <span aria-hidden="true">{icon}</span>
    </button>
  );
}
