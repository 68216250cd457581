// The pets demo (www/pets.html, on the `pet` and `user` models' blueprints) in
// independent browser contexts, on our server and on the real Sails app:
// create, edit and delete show up live elsewhere; a page opened later lists
// what is there; owners (an association) show on every page.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser } from "./harness.mjs";
import { petRow, addPet, visit, screenshot, withScreenshotsOnFailure, eventually, PUSH_TIMEOUT_MS } from "./demo-fixtures.mjs";
import { sailsAppMissing, startSailsApp } from "../conformance/servers.mjs";

const targets = [
  { name: "our server", start: () => startServer(), skip: false, shots: true },
  { name: "Sails 1.5.18", start: () => startSailsApp(), skip: sailsAppMissing(), shots: false },
  // The page with the real sails.io.js on our server: the page's logic, not our client.
  { name: "our server with the real sails.io.js", start: () => startServer(), skip: false, shots: false, client: "sails.io.js" },
];

// ----- find -----
const petNames = (page) => page.locator("#pets .pet-name").allTextContents();

// ----- act -----
async function rename(page, from, to) {
  await petRow(page, from).locator(".edit").click();
  const input = page.locator("#pets .edit-form input[name=name]");
  await input.fill(to);
  await input.press("Enter");
  await petRow(page, to).waitFor();
}

/** Records every `pet` message the page's socket receives. */
function recordPetMessages(page) {
  return page.evaluate(() => {
    window.petMessages = [];
    io.socket.on("pet", (message) => window.petMessages.push(message.verb));
  });
}

for (const target of targets) {
  describe(`pets page on ${target.name}`, { skip: target.skip }, () => {
    let server;
    let browser;
    let first;
    let second;
    let late;
    const visitors = () => [first, second, late].filter(Boolean);

    before(async () => {
      server = await target.start();
      browser = await launchBrowser();
      first = await visit(browser, `${server.url}/pets.html`, target);
      second = await visit(browser, `${server.url}/pets.html`, target);
    });

    after(async () => {
      await browser?.close();
      await server?.stop();
    });

    test("create, edit and delete in one page show up live in the other", () =>
      withScreenshotsOnFailure("pets", visitors, async () => {
        await recordPetMessages(first.page);
        await recordPetMessages(second.page);

        await addPet(first.page, "Rex", "dog");
        await petRow(second.page, "Rex").waitFor({ timeout: PUSH_TIMEOUT_MS });
        assert.equal(await petRow(second.page, "Rex").locator(".pet-species").textContent(), "dog");

        await addPet(second.page, "Tom", "cat");
        await petRow(first.page, "Tom").waitFor({ timeout: PUSH_TIMEOUT_MS });
        assert.deepEqual(await petNames(first.page), ["Rex", "Tom"]);

        await rename(second.page, "Rex", "Max");
        await petRow(first.page, "Max").waitFor({ timeout: PUSH_TIMEOUT_MS });
        assert.deepEqual(await petNames(first.page), ["Max", "Tom"]);

        await first.page.locator("#pets .delete").first().click();
        await eventually(() => petNames(second.page), ["Tom"], "the other page drops Max", PUSH_TIMEOUT_MS);
        await eventually(() => petNames(first.page), ["Tom"], "the deleting page drops Max");

        // Each page heard the others' changes with Sails' verbs, never its own.
        assert.deepEqual(await first.page.evaluate(() => window.petMessages), ["created", "updated"]);
        assert.deepEqual(await second.page.evaluate(() => window.petMessages), ["created", "destroyed"]);
        if (target.shots) await screenshot(first.page, "pets");
      }));

    test("a page opened later gets the list and the changes to it", () =>
      withScreenshotsOnFailure("pets-late", visitors, async () => {
        late = await visit(browser, `${server.url}/pets.html`, target);
        await eventually(() => petNames(late.page), ["Tom"], "the late page lists the pets");
        // The late page's `GET /pet` subscribed it to Tom (it was not watching when Tom was created).
        await rename(first.page, "Tom", "Tommy");
        await petRow(late.page, "Tommy").waitFor({ timeout: PUSH_TIMEOUT_MS });
        await petRow(late.page, "Tommy").locator(".delete").click();
        await eventually(() => petNames(first.page), [], "the first page drops Tommy", PUSH_TIMEOUT_MS);
        await eventually(() => petNames(second.page), [], "the second page drops Tommy", PUSH_TIMEOUT_MS);
        await late.page.locator("#no-pets").waitFor();
        for (const visitor of visitors()) assert.deepEqual(visitor.errors, []);
      }));

    test("an owner added in one page is offered in the others, and a pet given one shows it everywhere", () =>
      withScreenshotsOnFailure("pets-owners", visitors, async () => {
        await first.page.fill("#owner-name", "Ann");
        await first.page.press("#owner-name", "Enter");
        // The other pages hear the new user (`GET /user` watched the model) and offer her.
        for (const visitor of [second, late]) {
          await visitor.page.locator("#pet-owner option", { hasText: "Ann" }).waitFor({ state: "attached", timeout: PUSH_TIMEOUT_MS });
        }
        await second.page.selectOption("#pet-owner", { label: "Ann" });
        await addPet(second.page, "Kit", "cat");
        for (const visitor of visitors()) {
          await petRow(visitor.page, "Kit").waitFor({ timeout: PUSH_TIMEOUT_MS });
          await eventually(() => petRow(visitor.page, "Kit").locator(".pet-owner").textContent(), "owned by Ann", "Kit's owner shows", PUSH_TIMEOUT_MS);
        }
        // A page opened now gets the owner with the pet (`GET /pet` populates it).
        const fresh = await visit(browser, `${server.url}/pets.html`, target);
        try {
          await eventually(() => petRow(fresh.page, "Kit").locator(".pet-owner").textContent(), "owned by Ann", "the new page shows Kit's owner");
          assert.deepEqual(fresh.errors, []);
        } finally {
          await fresh.close();
        }
        for (const visitor of visitors()) assert.deepEqual(visitor.errors, []);
      }));
  });
}
