import { Foundation1763700000000 } from './1763700000000-foundation';
import { ProgramsPadronInstruments1763700100000 } from './1763700100000-programs-padron-instruments';
import { PadronAccessImports1763700200000 } from './1763700200000-padron-access-imports';
import { PadronImportFk1763700200001 } from './1763700200001-padron-import-fk';
import { Merchants1763700300000 } from './1763700300000-merchants';
import { MerchantsHotPath1763700300001 } from './1763700300001-merchants-hot-path';
import { Audit1763700400000 } from './1763700400000-audit';
import { DisbursementCycles1763700500000 } from './1763700500000-disbursement-cycles';
import { Treasury1763700600000 } from './1763700600000-treasury';
import { MerchantRedeemBatch1763700700000 } from './1763700700000-merchant-redeem-batch';
import { LedgerReferenceChecks1763700800000 } from './1763700800000-ledger-reference-checks';
import { LateRefunds1763700900000 } from './1763700900000-late-refunds';
import { SqlSource1764600000000 } from './1764600000000-sql-source';
import { LedgerPostingPrimitive1764600100000 } from './1764600100000-ledger-posting-primitive';
import { ListIndexes1764601000000 } from './1764601000000-list-indexes';
import { DropBusinessHolidays1764601000001 } from './1764601000001-drop-business-holidays';
import { StaffTokenVersion1764602000000 } from './1764602000000-staff-token-version';
import { Payouts1764605000000 } from './1764605000000-payouts';
import { PayoutSendLocks1764605000100 } from './1764605000100-payout-send-locks';
import { LedgerPrimitiveChecks1764606000000 } from './1764606000000-ledger-primitive-checks';
import { CycleLinesReferenceChecks1764606100000 } from './1764606100000-cycle-lines-reference-checks';
import { GrantRules1764608000000 } from './1764608000000-grant-rules';
import { GrantTrancheChunks1764608000100 } from './1764608000100-grant-tranche-chunks';
import { CycleLinesSourceReference1764609500000 } from './1764609500000-cycle-lines-source-reference';
import { LedgerStageGuard1764609500100 } from './1764609500100-ledger-stage-guard';
import { LedgerPostSet1764609500200 } from './1764609500200-ledger-post-set';
import { ParallelVoucherSweep1764609500300 } from './1764609500300-parallel-voucher-sweep';
import { ArrearsPaymentOrders1764611000000 } from './1764611000000-arrears-payment-orders';
import { FiscalYearRollover1764611000100 } from './1764611000100-fiscal-year-rollover';
import { WaitingList1764611000200 } from './1764611000200-waiting-list';
import { Loans1764612000000 } from './1764612000000-loans';
import { Complaints1764613000000 } from './1764613000000-complaints';
import { CancelReasons1764614000000 } from './1764614000000-cancel-reasons';
import { ConditionalBenefits1764615000000 } from './1764615000000-conditional-benefits';
import { TrainingSupports1764615000100 } from './1764615000100-training-supports';
import { InKindDeliveries1764615000200 } from './1764615000200-in-kind-deliveries';
import { PostingsByMonth1764616000000 } from './1764616000000-postings-by-month';
import { AuditIntegrityCheckpoints1764616000100 } from './1764616000100-audit-integrity-checkpoints';
import { MerchantAccreditedSupplier1764617000000 } from './1764617000000-merchant-accredited-supplier';
import { SeguroSignatureObligation1764618000000 } from './1764618000000-seguro-signature-obligation';
import { CompliancePayments1764618000100 } from './1764618000100-compliance-payments';
import { ApprovalInboxIndexes1764618100000 } from './1764618100000-approval-inbox-indexes';
import { ComplaintIntakeKey1764618200000 } from './1764618200000-complaint-intake-key';
import { AuditExecutionDays1764618210000 } from './1764618210000-audit-execution-days';
import { ComplaintAnswerReceipt1764618220000 } from './1764618220000-complaint-answer-receipt';
import { DropCardCollectionMonths1764618400000 } from './1764618400000-drop-card-collection-months';
import { AuditExecutionExecutingKinds1764618400100 } from './1764618400100-audit-execution-executing-kinds';

/** Every migration, in timestamp order. New migrations are appended here; released ones are never edited. */
export const MIGRATIONS = [
  Foundation1763700000000,
  ProgramsPadronInstruments1763700100000,
  PadronAccessImports1763700200000,
  PadronImportFk1763700200001,
  Merchants1763700300000,
  MerchantsHotPath1763700300001,
  Audit1763700400000,
  DisbursementCycles1763700500000,
  Treasury1763700600000,
  MerchantRedeemBatch1763700700000,
  LedgerReferenceChecks1763700800000,
  LateRefunds1763700900000,
  SqlSource1764600000000,
  LedgerPostingPrimitive1764600100000,
  ListIndexes1764601000000,
  DropBusinessHolidays1764601000001,
  StaffTokenVersion1764602000000,
  Payouts1764605000000,
  PayoutSendLocks1764605000100,
  LedgerPrimitiveChecks1764606000000,
  CycleLinesReferenceChecks1764606100000,
  GrantRules1764608000000,
  GrantTrancheChunks1764608000100,
  CycleLinesSourceReference1764609500000,
  LedgerStageGuard1764609500100,
  LedgerPostSet1764609500200,
  ParallelVoucherSweep1764609500300,
  ArrearsPaymentOrders1764611000000,
  FiscalYearRollover1764611000100,
  WaitingList1764611000200,
  Loans1764612000000,
  Complaints1764613000000,
  CancelReasons1764614000000,
  ConditionalBenefits1764615000000,
  TrainingSupports1764615000100,
  InKindDeliveries1764615000200,
  PostingsByMonth1764616000000,
  AuditIntegrityCheckpoints1764616000100,
  MerchantAccreditedSupplier1764617000000,
  SeguroSignatureObligation1764618000000,
  CompliancePayments1764618000100,
  ApprovalInboxIndexes1764618100000,
  ComplaintIntakeKey1764618200000,
  AuditExecutionDays1764618210000,
  ComplaintAnswerReceipt1764618220000,
  DropCardCollectionMonths1764618400000,
  AuditExecutionExecutingKinds1764618400100,
];
