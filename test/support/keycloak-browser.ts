/**
 * The web app's single sign-on in the browser tests: from the app's sign-in screen, through
 * Keycloak's own login page (the test types the password there), back into the app.
 */
import type { Page } from "playwright-core";
import { uiTimeout } from "./browser.js";

/** Keycloak's login page: its form's fields. */
export function keycloakLogin(page: Page) {
  return {
    username: page.locator("#username"),
    password: page.locator("#password"),
    submit: page.locator("#kc-login"),
  };
}

/** The single sign-on button of the app's sign-in screen. */
export function singleSignOnButton(page: Page) {
  return page.getByRole("button", { name: "Sign in with single sign-on" });
}

/**
 * From the app's sign-in screen, through Keycloak's page at `issuer` (typing the password),
 * back to `baseUrl` signed in (the header's Sign out shows).
 */
export async function signInThroughKeycloak(
  page: Page,
  baseUrl: string,
  issuer: string,
  user: { username: string; password: string },
): Promise<void> {
  await singleSignOnButton(page).click();
  await page.waitForURL((url) => url.href.startsWith(issuer), { timeout: uiTimeout });
  const form = keycloakLogin(page);
  await form.username.fill(user.username);
  await form.password.fill(user.password);
  await form.submit.click();
  await page.waitForURL((url) => url.href.startsWith(baseUrl), { timeout: uiTimeout });
  await page.getByRole("button", { name: "Sign out" }).waitFor({ timeout: uiTimeout });
}
