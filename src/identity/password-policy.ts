/**
 * Password policy (NIST 800-63B §5.1.1.2): a length range counted in Unicode code points, and
 * no common or guessable passwords — zxcvbn with the common-password dictionary scores each one,
 * with the username and email fed in as words an attacker would try first. A refusal says what
 * to change, from zxcvbn's feedback.
 */
import { ZxcvbnFactory, type TranslationKeys } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary } from '@zxcvbn-ts/language-common';
import { GatehouseError } from '../shared/errors.ts';

export interface PasswordPolicyOptions {
  minLength: number;
  maxLength: number;
  /** Minimum zxcvbn score, 0–4. */
  minStrength: number;
}

export interface PasswordPolicy {
  /** Throws `weak_password` with a reason the user can act on. */
  check(password: string, context?: { username?: string; email?: string }): void;
}

/** English feedback (the language packages we ship carry dictionaries, not messages). */
const translations: TranslationKeys = {
  warnings: {
    straightRow: 'Straight rows of keys on your keyboard are easy to guess.',
    keyPattern: 'Short keyboard patterns are easy to guess.',
    simpleRepeat: 'Repeated characters like "aaa" are easy to guess.',
    extendedRepeat: 'Repeated character patterns like "abcabcabc" are easy to guess.',
    sequences: 'Common character sequences like "abc" are easy to guess.',
    recentYears: 'Recent years are easy to guess.',
    dates: 'Dates are easy to guess.',
    topTen: 'This is one of the ten most used passwords.',
    topHundred: 'This is one of the hundred most used passwords.',
    common: 'This is a commonly used password.',
    similarToCommon: 'This is similar to a commonly used password.',
    wordByItself: 'Single words are easy to guess.',
    namesByThemselves: 'Single names or surnames are easy to guess.',
    commonNames: 'Common names and surnames are easy to guess.',
    userInputs: 'It contains your username or email address.',
    pwned: 'This password appeared in a data breach.',
  },
  suggestions: {
    l33t: 'Avoid predictable letter substitutions like "@" for "a".',
    reverseWords: 'Avoid reversed spellings of common words.',
    allUppercase: 'Capitalize some, but not all letters.',
    capitalization: 'Capitalize more than the first letter.',
    dates: 'Avoid dates and years that are associated with you.',
    recentYears: 'Avoid recent years.',
    associatedYears: 'Avoid years that are associated with you.',
    sequences: 'Avoid common character sequences.',
    repeated: 'Avoid repeated words and characters.',
    longerKeyboardPattern: 'Use longer keyboard patterns and change typing direction multiple times.',
    anotherWord: 'Add more words that are less common.',
    useWords: 'Use multiple words, but avoid common phrases.',
    noNeed: 'You can create strong passwords without using symbols, numbers, or uppercase letters.',
    pwned: 'Change this password wherever you use it.',
  },
  timeEstimation: {
    ltSecond: 'less than a second', second: '{base} second', seconds: '{base} seconds', minute: '{base} minute',
    minutes: '{base} minutes', hour: '{base} hour', hours: '{base} hours', day: '{base} day', days: '{base} days',
    month: '{base} month', months: '{base} months', year: '{base} year', years: '{base} years', centuries: 'centuries',
  },
};

/** Built once per process: loading the dictionaries takes ~30 ms. */
let estimator: ZxcvbnFactory | undefined;
function zxcvbn(): ZxcvbnFactory {
  // Levenshtein matching is off: it costs up to ~150 ms of main-thread CPU per check, while
  // the dictionary, l33t and reversed-word matchers already catch the common passwords.
  estimator ??= new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs, translations, useLevenshteinDistance: false });
  return estimator;
}

export function createPasswordPolicy(options: PasswordPolicyOptions): PasswordPolicy {
  return {
    check(password, context = {}) {
      const length = [...password].length;
      if (length < options.minLength) throw new GatehouseError('weak_password', `Use at least ${options.minLength} characters.`);
      if (length > options.maxLength) throw new GatehouseError('weak_password', `Use at most ${options.maxLength} characters.`);
      if (options.minStrength === 0) return;
      const userInputs = [context.username, context.email, context.email?.split('@')[0]].filter((v): v is string => Boolean(v));
      const result = zxcvbn().check(password, userInputs);
      if (result.score >= options.minStrength) return;
      const advice = [result.feedback.warning, ...result.feedback.suggestions].filter(Boolean);
      throw new GatehouseError('weak_password', advice.length > 0 ? advice.join(' ') : 'This password is too easy to guess. Add more words that are less common.');
    },
  };
}
