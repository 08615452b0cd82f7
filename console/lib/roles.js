// What each role may see and do in the console, mirroring the API's @Roles (admin may do everything).
// Hiding is a courtesy: the API refuses on its own (403) whatever the page shows.

const READ_FINANCE = ['finance_operator', 'finance_approver', 'auditor'];

export const PERMISSIONS = {
  viewPrograms: ['program_officer', ...READ_FINANCE],
  viewIndicators: ['program_officer', ...READ_FINANCE],
  viewStatements: READ_FINANCE,
  viewCycles: READ_FINANCE,
  prepareCycle: ['finance_operator'],
  approveCycle: ['finance_approver'],
  cancelCycle: ['finance_operator', 'finance_approver'],
  viewTreasury: READ_FINANCE,
  prepareRemittance: ['finance_operator'],
  approveRemittance: ['finance_approver'],
  cancelRemittance: ['finance_operator', 'finance_approver'],
  viewApprovals: READ_FINANCE,
  viewPayouts: READ_FINANCE,
  preparePayoutBatch: ['finance_operator'],
  approvePayoutBatch: ['finance_approver'],
  cancelPayoutBatch: ['finance_operator', 'finance_approver'],
  uploadPayoutResults: ['finance_operator', 'finance_approver'],
  viewArrears: READ_FINANCE,
  preparePaymentOrder: ['finance_operator'],
  approvePaymentOrder: ['finance_approver'],
  cancelPaymentOrder: ['finance_operator', 'finance_approver'],
  viewLoans: ['program_officer', ...READ_FINANCE],
  approveLoan: ['finance_approver'],
  disburseLoan: ['finance_operator'],
  recordRepayment: ['finance_operator'],
  requestWriteOff: ['finance_operator'],
  approveWriteOff: ['finance_approver'],
  viewExecution: READ_FINANCE,
  viewComplaints: ['program_officer', 'auditor'],
  intakeComplaint: ['program_officer'],
  answerComplaint: ['program_officer'],
  viewMerchants: READ_FINANCE,
  viewSettlements: READ_FINANCE,
  viewReconciliation: READ_FINANCE,
  viewIntegrity: ['auditor'],
  viewEvents: ['auditor'],
};

export function can(role, permission) {
  if (!role) return false;
  if (role === 'admin') return true;
  return (PERMISSIONS[permission] ?? []).includes(role);
}

/** The staff actor string the API records ("user:<username>"), to recognise one's own work. */
export function actorName(me) {
  return me ? `user:${me.username}` : null;
}
