// MAX_PARTICIPANTS in the browser: a join into a full meeting shows "This
// meeting is full (N people)" with the limit the server names, not a generic
// failure, and joins once a place is free.
import { useE2E } from "./suite.ts";
import { connect, type HuddleClient } from "../lib/client.ts";

const MAX = 2;
const e2e = useE2E({ registryEnv: { MAX_PARTICIPANTS: String(MAX) } });

e2e.test("a full meeting shows its limit; Try again joins once someone left", async ({ open, createMeeting, stack }) => {
  const id = await createMeeting();
  const inside: HuddleClient[] = [];
  try {
    for (let i = 0; i < MAX; i++) {
      const c = await connect(stack.wsUrl, `in${i}`);
      inside.push(c);
      await c.join(id, `Inside ${i}`);
    }
    const late = await open("Late", `/m/${id}`);
    await late.page.getByLabel("Your name").fill("Late");
    await late.page.getByRole("button", { name: "Join now", exact: true }).click();
    await late.page.getByRole("heading", { name: `This meeting is full (${MAX} people)` }).waitFor({ timeout: 15_000 });
    await late.page.getByText("Someone has to leave before you can join.").waitFor();
    // One leaves; Try again goes back to the pre-join screen and the join works.
    await inside[0].call({ case: "leave", value: {} } as never, "leave");
    await late.page.getByRole("button", { name: "Try again" }).click();
    await late.page.getByLabel("Your name").fill("Late");
    await late.page.getByRole("button", { name: "Join now", exact: true }).click();
    await inside[1].nextEvent("participantJoined", 20_000, (e) => e.participant?.displayName === "Late");
  } finally {
    await Promise.all(inside.map((c) => c.close().catch(() => undefined)));
  }
});
