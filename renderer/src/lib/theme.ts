// Light or dark: the user's choice when they made one (kept in localStorage), else the system's.
export type Theme = 'light' | 'dark';

export function savedTheme(): Theme {
  const saved = localStorage.getItem('attnvgg-theme');
  if (saved === 'light' || saved === 'dark') return saved;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function applyTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
}

export function chooseTheme(theme: Theme): void {
  localStorage.setItem('attnvgg-theme', theme);
  applyTheme(theme);
}
