import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Readable } from 'node:stream';
import { CurrentStaff } from '../common/auth/current-principal';
import { Public, Roles, StaffPrincipal } from '../common/auth/principal';
import { BeneficiariesQuery, DeactivateRequest, EnrolRequest, IncorporateRequest, LegalConstitutionRequest, WaitingListQuery } from './beneficiaries.dto';
import { WaitingListService } from './waiting-list.service';
import { DeactivationCause } from './beneficiaries.rules';
import { BeneficiariesService } from './beneficiaries.service';

@ApiTags('padrón')
@ApiBearerAuth()
@Controller('v1')
export class BeneficiariesController {
  constructor(
    private readonly beneficiaries: BeneficiariesService,
    private readonly waiting: WaitingListService,
  ) {}

  @Post('programs/:id/beneficiaries')
  @Roles('program_officer')
  enrol(@Param('id', new ParseUUIDPipe()) programId: string, @Body() body: EnrolRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.beneficiaries.enrol(programId, body, staff);
  }

  /** An application onto the waiting list (P17), in filing order (docs/programs-padron.md "Waiting list"). */
  @Post('programs/:id/waiting-list')
  @Roles('program_officer')
  fileApplication(@Param('id', new ParseUUIDPipe()) programId: string, @Body() body: EnrolRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.waiting.file(programId, body, staff);
  }

  /** Applicants still waiting in filing order; `overdueOnly=true`: waiting longer than six months (P17). */
  @Get('programs/:id/waiting-list')
  @Roles('program_officer', 'auditor')
  waitingList(@Param('id', new ParseUUIDPipe()) programId: string, @CurrentStaff() staff: StaffPrincipal, @Query() query: WaitingListQuery) {
    return this.waiting.list(programId, staff, query);
  }

  /** Incorporation into the padrón on a date of record (P17, P18, P20). */
  @Post('waiting-list/:id/incorporate')
  @Roles('program_officer')
  incorporate(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: IncorporateRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.waiting.incorporate(id, body, staff);
  }

  @Get('programs/:id/beneficiaries')
  @Roles('program_officer', 'auditor')
  list(@Param('id', new ParseUUIDPipe()) programId: string, @CurrentStaff() staff: StaffPrincipal, @Query() query: BeneficiariesQuery) {
    return this.beneficiaries.list(programId, staff, query);
  }

  /**
   * The public padrón (X2, U18, P47–P48), streamed: folio, names, sex, municipality, state, status,
   * incorporation date; never CURP, birth date or address. A confidential program's is not published (403).
   */
  @Public()
  @Get('programs/:id/padron.csv')
  @ApiProduces('text/csv')
  async publicPadron(@Param('id', new ParseUUIDPipe()) programId: string) {
    return this.stream(this.beneficiaries.publicExport(programId), 'text/csv; charset=utf-8', 'padron.csv');
  }

  /** The same public padrón as one JSON array of `{ folio, givenNames, surnames, sex, municipality, state, status, incorporatedOn }`. */
  @Public()
  @Get('programs/:id/padron.json')
  @ApiProduces('application/json')
  async publicPadronJson(@Param('id', new ParseUUIDPipe()) programId: string) {
    return this.stream(this.beneficiaries.publicExportJson(programId), 'application/json; charset=utf-8', 'padron.json');
  }

  private async stream(chunks: AsyncGenerator<string>, type: string, filename: string) {
    const first = await chunks.next(); // 403/404 before any byte is sent
    async function* all() {
      if (!first.done) yield first.value;
      yield* chunks;
    }
    return new StreamableFile(Readable.from(all()), { type, disposition: `attachment; filename="${filename}"` });
  }

  @Get('beneficiaries/:id')
  @Roles('program_officer', 'auditor')
  get(@Param('id', new ParseUUIDPipe()) id: string, @CurrentStaff() staff: StaffPrincipal) {
    return this.beneficiaries.get(id, staff);
  }

  @Get('beneficiaries/:id/history')
  @Roles('program_officer', 'auditor')
  history(@Param('id', new ParseUUIDPipe()) id: string, @CurrentStaff() staff: StaffPrincipal) {
    return this.beneficiaries.history(id, staff);
  }

  @Post('beneficiaries/:id/deactivate')
  @HttpCode(200)
  @Roles('program_officer')
  deactivate(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: DeactivateRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.beneficiaries.deactivate(id, { ...body, cause: body.cause as DeactivationCause }, staff);
  }

  /** A group's legal constitution: it becomes a cooperative, civil organisation or firm with its RFC. */
  @Post('beneficiaries/:id/legal-constitution')
  @HttpCode(200)
  @Roles('program_officer')
  constitution(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: LegalConstitutionRequest, @CurrentStaff() staff: StaffPrincipal) {
    return this.beneficiaries.recordConstitution(id, body, staff);
  }

  @Post('beneficiaries/:id/reactivate')
  @HttpCode(200)
  @Roles('program_officer')
  reactivate(@Param('id', new ParseUUIDPipe()) id: string, @CurrentStaff() staff: StaffPrincipal) {
    return this.beneficiaries.reactivate(id, staff);
  }
}
