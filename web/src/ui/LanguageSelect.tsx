import { LANGS, LANG_NAMES, lang, setLang, t, type Lang } from '../i18n';

export function LanguageSelect() {
  return (
    <label class="lang">
      {t('language')}
      <select data-testid="language-select" value={lang.value} onChange={(e) => setLang((e.target as HTMLSelectElement).value as Lang)}>
        {LANGS.map((l) => (
          <option value={l} key={l}>
            {LANG_NAMES[l]}
          </option>
        ))}
      </select>
    </label>
  );
}
