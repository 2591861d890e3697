// zh-CN by default, English on request; every key exists in both dictionaries
// (tests/api/test_web_build.py checks it).
import { createContext, useContext, useState, type ReactNode } from "react";
import en from "./en.json";
import zh from "./zh-CN.json";

export type Lang = "zh-CN" | "en";
export type Key = keyof typeof zh;

const DICTIONARIES: Record<Lang, Record<Key, string>> = { "zh-CN": zh, en };
const STORAGE_KEY = "haizhou.lang";

interface I18n {
  lang: Lang;
  t: (key: Key) => string;
  setLang: (lang: Lang) => void;
}

const I18nContext = createContext<I18n | null>(null);

function initialLang(): Lang {
  const saved = window.localStorage.getItem(STORAGE_KEY);
  return saved === "en" ? "en" : "zh-CN";
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const setLang = (next: Lang) => {
    window.localStorage.setItem(STORAGE_KEY, next);
    document.documentElement.lang = next;
    setLangState(next);
  };
  const t = (key: Key) => DICTIONARIES[lang][key] ?? key;
  return <I18nContext.Provider value={{ lang, t, setLang }}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (value === null) throw new Error("useI18n outside I18nProvider");
  return value;
}
