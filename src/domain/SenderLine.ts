/** The lines a sender reads in its response body while its transfer runs (protocol §3). */
export const SenderLine = {
  waiting: (n: number) => `[INFO] Waiting for ${n} receiver(s)...\n`,
  receiverConnected: "[INFO] A receiver was connected.\n",
  receiversAlreadyConnected: (k: number) => `[INFO] ${k} receiver(s) has/have been connected.\n`,
  start: (n: number) => `[INFO] Start sending to ${n} receiver(s)!\n`,
  sent: "[INFO] Sent successfully!\n",
  allReceived: "[INFO] All receiver(s) received successfully.\n",
  receiverAborted: "[INFO] A receiver aborted.\n",
  allReceiversAborted: "[ERROR] All receiver(s) aborted halfway.\n",
  failed: "[ERROR] Failed to send.\n",
  shuttingDown: "[ERROR] The server is shutting down.\n",
  stalled: (error: string) => `[ERROR] ${error}\n`,
  /**
   * Written to a waiting sender every second while its upload is unread. Its socket is not being read then
   * (that is the backpressure), so a sender that dies would go unnoticed; a write makes its host answer
   * with a reset, and the slot is freed within about two seconds.
   */
  probe: "\n"
} as const
