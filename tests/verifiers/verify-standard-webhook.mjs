// Verifies one outbound webhook with the official Standard Webhooks library (npm standardwebhooks).
// stdin: {"secret": "whsec_...", "headers": {...}, "body": "<raw body>"}; prints the verified payload
// as JSON, or "invalid: <reason>" and exits 1.
import { Webhook } from "standardwebhooks";

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const { secret, headers, body } = JSON.parse(input);
  try {
    const payload = new Webhook(secret).verify(body, headers);
    process.stdout.write(JSON.stringify(payload));
  } catch (e) {
    process.stdout.write(`invalid: ${e.message}`);
    process.exit(1);
  }
});
