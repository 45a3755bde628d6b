// GrantRegistry: grants by the owner, by EIP-712 signature and by the ledger (licence sales),
// voiding signatures, revocation, views over time. Metering (consume through the ledger) and the
// licence sale itself are exercised in TransactionLedger.test.js.
const { expect } = require("chai");
const { ethers } = require("hardhat");
const {
  loadFixture,
  setStorageAt,
  time,
} = require("@nomicfoundation/hardhat-network-helpers");
const {
  Status,
  GrantStatus,
  GRANT,
  DAY,
  UINT40_MAX,
  UINT32_MAX,
  ERC1271_MAGIC,
  NOTICE,
  h,
  registration,
  chainId,
  signGrant,
  signRegister,
  normalFixture,
  reviewFixture,
  grantFixture,
  registerAsset,
  nextBlockAt,
  findSlot,
  deployMagicContract,
  NO_RESERVATION,
  asLedger,
} = require("./helpers/fixtures");

const PURPOSE = h("purpose:fraud detection");
const SCOPE = h("scope:chunks 0-15");
const REASON = h("reason:breach of terms");
const UINT64_MAX = 2n ** 64n - 1n;

/** Normal mode, alice owns asset 1 (active), no grants yet. */
async function assetFixture() {
  const system = await normalFixture();
  const assetId = await registerAsset(system.assets, system.alice, "dataset-a");
  const now = BigInt(await time.latest());
  const terms = {
    assetId,
    grantee: system.bob.address,
    purpose: PURPOSE,
    validFrom: now,
    expiresAt: now + BigInt(7 * DAY),
    quota: 100n,
    scopeRoot: SCOPE,
  };
  return { ...system, assetId, terms, deadline: now + 3600n };
}

const grantArgs = (t) => [t.assetId, t.grantee, t.purpose, t.validFrom, t.expiresAt, t.quota, t.scopeRoot];

describe("GrantRegistry", function () {
  describe("deployment", function () {
    it("points at the asset registry and the ledger deployed next", async function () {
      const { assets, grants, ledger, predictedLedger } = await loadFixture(normalFixture);
      expect(await grants.assets()).to.equal(await assets.getAddress());
      expect(await grants.ledger()).to.equal(await ledger.getAddress());
      expect(await grants.ledger()).to.equal(predictedLedger);
      expect(await grants.totalGrants()).to.equal(0n);
    });

    it("GRANT_TYPEHASH is keccak256 of the type string in the comment beside it", async function () {
      const { grants } = await loadFixture(normalFixture);
      expect(GRANT.typeString).to.equal(
        "Grant(uint256 assetId,address grantee,bytes32 purpose,uint64 validFrom,uint64 expiresAt," +
          "uint64 quota,bytes32 scopeRoot,uint256 nonce,uint256 deadline)",
      );
      expect(ethers.TypedDataEncoder.from(GRANT.types).encodeType("Grant")).to.equal(GRANT.typeString);
      expect(await grants.GRANT_TYPEHASH()).to.equal(ethers.keccak256(ethers.toUtf8Bytes(GRANT.typeString)));
    });

    it("publishes its domain (ERC-5267) and DOMAIN_SEPARATOR matching it", async function () {
      const { grants } = await loadFixture(normalFixture);
      const domain = await grants.eip712Domain();
      expect(domain.fields).to.equal("0x0f");
      expect(domain.name).to.equal("dataseal GrantRegistry");
      expect(domain.version).to.equal("2");
      expect(domain.chainId).to.equal(await chainId());
      expect(domain.verifyingContract).to.equal(await grants.getAddress());
      expect(await grants.DOMAIN_SEPARATOR()).to.equal(
        ethers.TypedDataEncoder.hashDomain({
          name: "dataseal GrantRegistry",
          version: "2",
          chainId: await chainId(),
          verifyingContract: await grants.getAddress(),
        }),
      );
    });
  });

  describe("grant", function () {
    it("creates the grant: GrantCreated with every term, grantOf, totalGrants", async function () {
      const { grants, alice, bob, assetId, terms } = await loadFixture(assetFixture);
      expect(await grants.connect(alice).grant.staticCall(...grantArgs(terms))).to.equal(1n);
      await expect(grants.connect(alice).grant(...grantArgs(terms)))
        .to.emit(grants, "GrantCreated")
        .withArgs(1n, assetId, bob.address, alice.address, PURPOSE, terms.validFrom, terms.expiresAt, 100n, SCOPE);
      const g = await grants.grantOf(1);
      expect(g.grantId).to.equal(1n);
      expect(g.assetId).to.equal(assetId);
      expect(g.grantee).to.equal(bob.address);
      expect(g.validFrom).to.equal(terms.validFrom);
      expect(g.expiresAt).to.equal(terms.expiresAt);
      expect(g.quota).to.equal(100n);
      expect(g.used).to.equal(0n);
      expect(g.sequence).to.equal(0n);
      expect(g.scopeRoot).to.equal(SCOPE);
      expect(g.status).to.equal(BigInt(GrantStatus.Active));
      expect(await grants.totalGrants()).to.equal(1n);
      expect(await grants.remaining(1)).to.equal(100n);
    });

    it("a grant without scope covers the whole asset (scope root 0)", async function () {
      const { grants, alice, assetId, terms } = await loadFixture(assetFixture);
      const whole = { ...terms, scopeRoot: ethers.ZeroHash };
      await expect(grants.connect(alice).grant(...grantArgs(whole)))
        .to.emit(grants, "GrantCreated")
        .withArgs(1n, assetId, whole.grantee, alice.address, PURPOSE, whole.validFrom, whole.expiresAt, 100n, ethers.ZeroHash);
      expect((await grants.grantOf(1)).scopeRoot).to.equal(ethers.ZeroHash);
    });

    it("numbers grants 1, 2, 3 across assets, grantors and repeated grantees", async function () {
      const { assets, grants, alice, bob, carol, terms } = await loadFixture(assetFixture);
      const bobsAsset = await registerAsset(assets, bob, "bobs");
      await grants.connect(alice).grant(...grantArgs(terms));
      await expect(grants.connect(bob).grant(...grantArgs({ ...terms, assetId: bobsAsset, grantee: carol.address })))
        .to.emit(grants, "GrantCreated")
        .withArgs(2n, bobsAsset, carol.address, bob.address, PURPOSE, terms.validFrom, terms.expiresAt, 100n, SCOPE);
      await grants.connect(alice).grant(...grantArgs(terms));
      expect(await grants.totalGrants()).to.equal(3n);
      expect((await grants.grantOf(3)).grantee).to.equal(bob.address);
      expect((await grants.grantOf(2)).assetId).to.equal(bobsAsset);
    });

    it("refuses callers other than the asset's owner (the grantee and a reviewer included)", async function () {
      const { grants, alice, bob, reviewer, eve, assetId, terms } = await loadFixture(assetFixture);
      for (const caller of [bob, reviewer, eve]) {
        await expect(grants.connect(caller).grant(...grantArgs(terms)))
          .to.be.revertedWithCustomError(grants, "NotAssetOwner")
          .withArgs(assetId, caller.address, alice.address);
      }
    });

    it("follows the token: the old owner is refused after a transfer, the new owner may grant", async function () {
      const { assets, grants, alice, bob, carol, assetId, terms } = await loadFixture(assetFixture);
      await assets.connect(alice).transferFrom(alice.address, carol.address, assetId);
      await expect(grants.connect(alice).grant(...grantArgs(terms)))
        .to.be.revertedWithCustomError(grants, "NotAssetOwner")
        .withArgs(assetId, alice.address, carol.address);
      await expect(grants.connect(carol).grant(...grantArgs(terms)))
        .to.emit(grants, "GrantCreated")
        .withArgs(1n, assetId, bob.address, carol.address, PURPOSE, terms.validFrom, terms.expiresAt, 100n, SCOPE);
    });

    it("refuses unknown assets", async function () {
      const { assets, grants, alice, terms } = await loadFixture(assetFixture);
      for (const assetId of [0n, 2n]) {
        await expect(grants.connect(alice).grant(...grantArgs({ ...terms, assetId })))
          .to.be.revertedWithCustomError(assets, "UnknownAsset")
          .withArgs(assetId);
      }
    });

    it("refuses an asset in its public notice; once the notice passes it grants, without a transaction (review mode)", async function () {
      const { assets, grants, alice, bob } = await loadFixture(reviewFixture);
      const assetId = await registerAsset(assets, alice, "pending");
      const registeredAt = BigInt(await time.latest());
      const terms = { assetId, grantee: bob.address, purpose: PURPOSE, validFrom: 0n, expiresAt: registeredAt + 30n * BigInt(DAY), quota: 5n, scopeRoot: SCOPE };
      await time.setNextBlockTimestamp(registeredAt + BigInt(NOTICE) - 1n);
      await expect(grants.connect(alice).grant(...grantArgs(terms)))
        .to.be.revertedWithCustomError(grants, "AssetNotActive")
        .withArgs(assetId, Status.Pending);
      // No approval, no other transaction: the notice simply ends.
      await time.setNextBlockTimestamp(registeredAt + BigInt(NOTICE));
      await expect(grants.connect(alice).grant(...grantArgs(terms)))
        .to.emit(grants, "GrantCreated")
        .withArgs(1n, assetId, bob.address, alice.address, PURPOSE, 0n, terms.expiresAt, 5n, SCOPE);
    });

    it("refuses a disputed asset (an objection during the notice; review mode)", async function () {
      const { assets, grants, alice, bob, eve } = await loadFixture(reviewFixture);
      const assetId = await registerAsset(assets, alice, "disputed");
      await assets.connect(eve).object(assetId, h("evidence:prior registration"));
      await time.increase(NOTICE);
      const now = BigInt(await time.latest());
      const terms = { assetId, grantee: bob.address, purpose: PURPOSE, validFrom: now, expiresAt: now + 1000n, quota: 5n, scopeRoot: SCOPE };
      await expect(grants.connect(alice).grant(...grantArgs(terms)))
        .to.be.revertedWithCustomError(grants, "AssetNotActive")
        .withArgs(assetId, Status.Disputed);
    });

    it("refuses an asset whose certification expired (validUntil); renewal restores it", async function () {
      const { assets, grants, alice, bob } = await loadFixture(normalFixture);
      const validUntil = BigInt(await time.latest()) + BigInt(DAY);
      const assetId = await registerAsset(assets, alice, "expiring", { validUntil });
      const terms = { assetId, grantee: bob.address, purpose: PURPOSE, validFrom: 0n, expiresAt: validUntil + 10n * BigInt(DAY), quota: 5n, scopeRoot: SCOPE };
      await time.setNextBlockTimestamp(validUntil - 1n);
      await expect(grants.connect(alice).grant(...grantArgs(terms))).to.emit(grants, "GrantCreated");
      await time.setNextBlockTimestamp(validUntil);
      await expect(grants.connect(alice).grant(...grantArgs(terms)))
        .to.be.revertedWithCustomError(grants, "AssetNotActive")
        .withArgs(assetId, Status.Expired);
      await assets.connect(alice).renew(assetId, validUntil + 5n * BigInt(DAY));
      await expect(grants.connect(alice).grant(...grantArgs(terms)))
        .to.emit(grants, "GrantCreated")
        .withArgs(2n, assetId, bob.address, alice.address, PURPOSE, 0n, terms.expiresAt, 5n, SCOPE);
    });

    it("refuses rejected assets (review mode)", async function () {
      const { assets, grants, alice, bob, reviewer } = await loadFixture(reviewFixture);
      const assetId = await registerAsset(assets, alice, "rejected");
      await assets.connect(reviewer).rejectRegistration(assetId, REASON, NO_RESERVATION);
      const now = BigInt(await time.latest());
      const terms = { assetId, grantee: bob.address, purpose: PURPOSE, validFrom: now, expiresAt: now + 1000n, quota: 5n, scopeRoot: SCOPE };
      await expect(grants.connect(alice).grant(...grantArgs(terms)))
        .to.be.revertedWithCustomError(grants, "AssetNotActive")
        .withArgs(assetId, Status.Rejected);
    });

    it("refuses a suspended asset until reinstated, and a cancelled asset", async function () {
      const { assets, grants, alice, reviewer, assetId, terms } = await loadFixture(assetFixture);
      await assets.connect(reviewer).suspend(assetId, REASON);
      await expect(grants.connect(alice).grant(...grantArgs(terms)))
        .to.be.revertedWithCustomError(grants, "AssetNotActive")
        .withArgs(assetId, Status.Suspended);
      await assets.connect(reviewer).reinstate(assetId, REASON);
      await expect(grants.connect(alice).grant(...grantArgs(terms))).to.emit(grants, "GrantCreated");
      await assets.connect(alice).cancel(assetId, REASON);
      await expect(grants.connect(alice).grant(...grantArgs(terms)))
        .to.be.revertedWithCustomError(grants, "AssetNotActive")
        .withArgs(assetId, Status.Cancelled);
    });

    it("refuses the zero grantee", async function () {
      const { grants, alice, terms } = await loadFixture(assetFixture);
      await expect(grants.connect(alice).grant(...grantArgs({ ...terms, grantee: ethers.ZeroAddress })))
        .to.be.revertedWithCustomError(grants, "InvalidGrantee")
        .withArgs(ethers.ZeroAddress);
    });

    it("refuses windows that are empty, already over, or end after 2**40-1", async function () {
      const { grants, alice, terms } = await loadFixture(assetFixture);
      const now = BigInt(await time.latest());
      const cases = [
        { validFrom: now + 500n, expiresAt: now + 500n }, // empty
        { validFrom: now + 500n, expiresAt: now + 499n }, // reversed
        { validFrom: now - 100n, expiresAt: now + 10n }, // ends exactly at the block time
        { validFrom: 0n, expiresAt: now - 1n }, // ended before
        { validFrom: now, expiresAt: UINT40_MAX + 1n }, // past the uint40 storage
        { validFrom: now, expiresAt: UINT64_MAX },
      ];
      for (const window of cases) {
        const t = await nextBlockAt(10);
        await expect(grants.connect(alice).grant(...grantArgs({ ...terms, ...window })))
          .to.be.revertedWithCustomError(grants, "InvalidValidity")
          .withArgs(window.validFrom, window.expiresAt, t);
      }
    });

    it("accepts a window opening in the past, one opening later, and one ending at 2**40-1", async function () {
      const { grants, alice, terms } = await loadFixture(assetFixture);
      const now = BigInt(await time.latest());
      const windows = [
        { validFrom: 0n, expiresAt: now + 100n },
        { validFrom: now + 10n * BigInt(DAY), expiresAt: now + 20n * BigInt(DAY) },
        { validFrom: now, expiresAt: UINT40_MAX },
        { validFrom: UINT40_MAX - 1n, expiresAt: UINT40_MAX },
      ];
      for (const [i, window] of windows.entries()) {
        await grants.connect(alice).grant(...grantArgs({ ...terms, ...window }));
        const g = await grants.grantOf(i + 1);
        expect([g.validFrom, g.expiresAt]).to.deep.equal([window.validFrom, window.expiresAt]);
      }
    });

    it("refuses a zero quota; accepts the largest", async function () {
      const { grants, alice, terms } = await loadFixture(assetFixture);
      await expect(grants.connect(alice).grant(...grantArgs({ ...terms, quota: 0n })))
        .to.be.revertedWithCustomError(grants, "InvalidQuota")
        .withArgs(0n);
      await grants.connect(alice).grant(...grantArgs({ ...terms, quota: UINT64_MAX }));
      expect(await grants.remaining(1)).to.equal(UINT64_MAX);
    });

    it("assigns the last id 2**32-1, then reverts IdSpaceExhausted", async function () {
      const { grants, alice, terms } = await loadFixture(assetFixture);
      for (let i = 0; i < 3; i += 1) await grants.connect(alice).grant(...grantArgs(terms));
      const slot = await findSlot(await grants.getAddress(), 3n);
      await setStorageAt(await grants.getAddress(), slot, UINT32_MAX - 1n);
      await expect(grants.connect(alice).grant(...grantArgs(terms)))
        .to.emit(grants, "GrantCreated")
        .withArgs(UINT32_MAX, terms.assetId, terms.grantee, alice.address, PURPOSE, terms.validFrom, terms.expiresAt, 100n, SCOPE);
      await expect(grants.connect(alice).grant(...grantArgs(terms)))
        .to.be.revertedWithCustomError(grants, "IdSpaceExhausted")
        .withArgs(UINT32_MAX);
    });
  });

  describe("revoke", function () {
    it("the owner revokes: GrantRevoked, status Revoked, no longer usable", async function () {
      const { grants, alice, grantId, assetId } = await loadFixture(grantFixture);
      expect(await grants.isUsable(grantId, await time.latest())).to.equal(true);
      await expect(grants.connect(alice).revoke(grantId, REASON))
        .to.emit(grants, "GrantRevoked")
        .withArgs(grantId, assetId, alice.address, REASON);
      const g = await grants.grantOf(grantId);
      expect(g.status).to.equal(BigInt(GrantStatus.Revoked));
      expect(await grants.isUsable(grantId, await time.latest())).to.equal(false);
    });

    it("refuses a second revocation", async function () {
      const { grants, alice, grantId } = await loadFixture(grantFixture);
      await grants.connect(alice).revoke(grantId, REASON);
      await expect(grants.connect(alice).revoke(grantId, REASON))
        .to.be.revertedWithCustomError(grants, "GrantNotActive")
        .withArgs(grantId, GrantStatus.Revoked);
    });

    it("refuses non-owners (the grantee included)", async function () {
      const { grants, alice, bob, eve, grantId, assetId } = await loadFixture(grantFixture);
      for (const caller of [bob, eve]) {
        await expect(grants.connect(caller).revoke(grantId, REASON))
          .to.be.revertedWithCustomError(grants, "NotAssetOwner")
          .withArgs(assetId, caller.address, alice.address);
      }
    });

    it("follows the token: the old owner cannot revoke after a transfer, the new owner can", async function () {
      const { assets, grants, alice, carol, grantId, assetId } = await loadFixture(grantFixture);
      await assets.connect(alice).transferFrom(alice.address, carol.address, assetId);
      await expect(grants.connect(alice).revoke(grantId, REASON))
        .to.be.revertedWithCustomError(grants, "NotAssetOwner")
        .withArgs(assetId, alice.address, carol.address);
      await expect(grants.connect(carol).revoke(grantId, REASON))
        .to.emit(grants, "GrantRevoked")
        .withArgs(grantId, assetId, carol.address, REASON);
    });

    it("works while the asset is suspended or cancelled", async function () {
      const { assets, grants, alice, reviewer, grantId, assetId, terms } = await loadFixture(grantFixture);
      await grants.connect(alice).grant(...grantArgs(terms));
      await assets.connect(reviewer).suspend(assetId, REASON);
      await expect(grants.connect(alice).revoke(grantId, REASON)).to.emit(grants, "GrantRevoked");
      await assets.connect(reviewer).reinstate(assetId, REASON);
      await assets.connect(alice).cancel(assetId, REASON);
      await expect(grants.connect(alice).revoke(2, REASON))
        .to.emit(grants, "GrantRevoked")
        .withArgs(2n, assetId, alice.address, REASON);
    });

    it("refuses unknown grants", async function () {
      const { grants, alice } = await loadFixture(grantFixture);
      for (const id of [0n, 2n]) {
        await expect(grants.connect(alice).revoke(id, REASON))
          .to.be.revertedWithCustomError(grants, "UnknownGrant")
          .withArgs(id);
      }
    });
  });

  describe("grantBySig", function () {
    const relay = (grants, relayer, terms, deadline, signature) =>
      grants.connect(relayer).grantBySig(terms, deadline, signature);

    it("creates the grant the owner signed, relayed by anyone, and moves the owner's nonce", async function () {
      const { grants, alice, bob, relayer, assetId, terms, deadline } = await loadFixture(assetFixture);
      const signature = await signGrant(alice, grants, terms, deadline);
      await relay(grants, relayer, terms, deadline, signature);
      expect(await grants.totalGrants()).to.equal(1n);
      const g = await grants.grantOf(1);
      expect([g.assetId, g.grantee, g.quota, g.scopeRoot]).to.deep.equal([assetId, bob.address, 100n, SCOPE]);
      expect(await grants.nonces(alice.address)).to.equal(1n);
      expect(await grants.nonces(relayer.address)).to.equal(0n);
    });

    it("emits GrantCreated naming the owner as grantor (not the relayer)", async function () {
      const { grants, alice, bob, relayer, assetId, terms, deadline } = await loadFixture(assetFixture);
      const signature = await signGrant(alice, grants, terms, deadline);
      expect(await grants.connect(relayer).grantBySig.staticCall(terms, deadline, signature)).to.equal(1n);
      await expect(relay(grants, relayer, terms, deadline, signature))
        .to.emit(grants, "GrantCreated")
        .withArgs(1n, assetId, bob.address, alice.address, PURPOSE, terms.validFrom, terms.expiresAt, 100n, SCOPE);
    });

    it("refuses the same signature twice (the nonce moved)", async function () {
      const { grants, alice, relayer, terms, deadline } = await loadFixture(assetFixture);
      const signature = await signGrant(alice, grants, terms, deadline);
      await relay(grants, relayer, terms, deadline, signature);
      await expect(relay(grants, relayer, terms, deadline, signature))
        .to.be.revertedWithCustomError(grants, "InvalidSignature")
        .withArgs(alice.address);
    });

    it("one nonce sequence per owner across its assets; independent of AssetRegistry's nonces", async function () {
      const { assets, grants, alice, relayer, terms, deadline } = await loadFixture(assetFixture);
      // A registerBySig by alice moves AssetRegistry's nonce only.
      const second = registration("second");
      const regSig = await signRegister(alice, assets, { owner: alice.address, ...second, deadline });
      await assets.connect(relayer).registerBySig(alice.address, second, ethers.ZeroHash, deadline, regSig);
      expect(await assets.nonces(alice.address)).to.equal(1n);
      expect(await grants.nonces(alice.address)).to.equal(0n);

      const secondTerms = { ...terms, assetId: 2n };
      const sigFirst = await signGrant(alice, grants, terms, deadline, { nonce: 0n });
      const sigSecond = await signGrant(alice, grants, secondTerms, deadline, { nonce: 0n });
      await relay(grants, relayer, terms, deadline, sigFirst);
      await expect(relay(grants, relayer, secondTerms, deadline, sigSecond))
        .to.be.revertedWithCustomError(grants, "InvalidSignature")
        .withArgs(alice.address);
      await relay(grants, relayer, secondTerms, deadline, await signGrant(alice, grants, secondTerms, deadline));
      expect(await grants.nonces(alice.address)).to.equal(2n);
    });

    it("refuses an expired deadline; accepts a deadline equal to the block time", async function () {
      const { grants, alice, relayer, terms, deadline } = await loadFixture(assetFixture);
      const signature = await signGrant(alice, grants, terms, deadline);
      await time.setNextBlockTimestamp(deadline + 1n);
      await expect(relay(grants, relayer, terms, deadline, signature))
        .to.be.revertedWithCustomError(grants, "SignatureExpired")
        .withArgs(deadline, deadline + 1n);

      const fresh = await loadFixture(assetFixture);
      const sig2 = await signGrant(fresh.alice, fresh.grants, fresh.terms, fresh.deadline);
      await time.setNextBlockTimestamp(fresh.deadline);
      await expect(relay(fresh.grants, fresh.relayer, fresh.terms, fresh.deadline, sig2)).to.emit(fresh.grants, "GrantCreated");
    });

    it("refuses a signature for another chain id", async function () {
      const { grants, alice, relayer, terms, deadline } = await loadFixture(assetFixture);
      const signature = await signGrant(alice, grants, terms, deadline, { domain: { chainId: 1n } });
      await expect(relay(grants, relayer, terms, deadline, signature))
        .to.be.revertedWithCustomError(grants, "InvalidSignature")
        .withArgs(alice.address);
    });

    it("refuses a signature for another contract address", async function () {
      const { assets, grants, alice, relayer, terms, deadline } = await loadFixture(assetFixture);
      const signature = await signGrant(alice, grants, terms, deadline, {
        domain: { verifyingContract: await assets.getAddress() },
      });
      await expect(relay(grants, relayer, terms, deadline, signature))
        .to.be.revertedWithCustomError(grants, "InvalidSignature")
        .withArgs(alice.address);
    });

    it("refuses a signature under another domain name or version", async function () {
      const { grants, alice, relayer, terms, deadline } = await loadFixture(assetFixture);
      for (const domain of [{ name: "dataseal AssetRegistry" }, { version: "0" }]) {
        const signature = await signGrant(alice, grants, terms, deadline, { domain });
        await expect(relay(grants, relayer, terms, deadline, signature))
          .to.be.revertedWithCustomError(grants, "InvalidSignature")
          .withArgs(alice.address);
      }
    });

    it("refuses a signature by anyone but the asset's owner (the grantee included)", async function () {
      const { grants, alice, bob, relayer, terms, deadline } = await loadFixture(assetFixture);
      for (const signer of [bob, relayer]) {
        const signature = await signGrant(signer, grants, terms, deadline, { nonce: 0n });
        await expect(relay(grants, relayer, terms, deadline, signature))
          .to.be.revertedWithCustomError(grants, "InvalidSignature")
          .withArgs(alice.address);
      }
    });

    it("refuses terms changed after signing (every field is signed)", async function () {
      const { assets, grants, alice, relayer, terms, deadline } = await loadFixture(assetFixture);
      await registerAsset(assets, alice, "second");
      const signature = await signGrant(alice, grants, terms, deadline);
      const changes = [
        { assetId: 2n },
        { grantee: relayer.address },
        { purpose: h("purpose:other") },
        { validFrom: terms.validFrom - 1n },
        { expiresAt: terms.expiresAt + 1n },
        { quota: terms.quota + 1n },
        { scopeRoot: ethers.ZeroHash },
      ];
      for (const change of changes) {
        await expect(relay(grants, relayer, { ...terms, ...change }, deadline, signature))
          .to.be.revertedWithCustomError(grants, "InvalidSignature")
          .withArgs(alice.address);
      }
      await expect(relay(grants, relayer, terms, deadline + 1n, signature))
        .to.be.revertedWithCustomError(grants, "InvalidSignature")
        .withArgs(alice.address);
      await expect(relay(grants, relayer, terms, deadline, signature)).to.emit(grants, "GrantCreated");
    });

    it("refuses malformed signatures", async function () {
      const { grants, alice, relayer, terms, deadline } = await loadFixture(assetFixture);
      const signature = await signGrant(alice, grants, terms, deadline);
      for (const bad of ["0x", ethers.dataSlice(signature, 0, 64), ethers.concat([signature, "0x00"])]) {
        await expect(relay(grants, relayer, terms, deadline, bad))
          .to.be.revertedWithCustomError(grants, "InvalidSignature")
          .withArgs(alice.address);
      }
    });

    it("a signature by the old owner is void after a transfer; the new owner's is accepted", async function () {
      const { assets, grants, alice, carol, relayer, assetId, terms, deadline } = await loadFixture(assetFixture);
      const oldSig = await signGrant(alice, grants, terms, deadline);
      await assets.connect(alice).transferFrom(alice.address, carol.address, assetId);
      await expect(relay(grants, relayer, terms, deadline, oldSig))
        .to.be.revertedWithCustomError(grants, "InvalidSignature")
        .withArgs(carol.address);
      await expect(relay(grants, relayer, terms, deadline, await signGrant(carol, grants, terms, deadline)))
        .to.emit(grants, "GrantCreated")
        .withArgs(1n, assetId, terms.grantee, carol.address, PURPOSE, terms.validFrom, terms.expiresAt, 100n, SCOPE);
    });

    it("refuses unknown assets", async function () {
      const { assets, grants, alice, relayer, terms, deadline } = await loadFixture(assetFixture);
      const unknown = { ...terms, assetId: 9n };
      await expect(relay(grants, relayer, unknown, deadline, await signGrant(alice, grants, unknown, deadline)))
        .to.be.revertedWithCustomError(assets, "UnknownAsset")
        .withArgs(9n);
    });

    it("validates the terms after a valid signature, leaving the nonce unused", async function () {
      const { assets, grants, alice, reviewer, relayer, assetId, terms, deadline } = await loadFixture(assetFixture);
      const zeroQuota = { ...terms, quota: 0n };
      await expect(relay(grants, relayer, zeroQuota, deadline, await signGrant(alice, grants, zeroQuota, deadline)))
        .to.be.revertedWithCustomError(grants, "InvalidQuota")
        .withArgs(0n);
      const noGrantee = { ...terms, grantee: ethers.ZeroAddress };
      await expect(relay(grants, relayer, noGrantee, deadline, await signGrant(alice, grants, noGrantee, deadline)))
        .to.be.revertedWithCustomError(grants, "InvalidGrantee")
        .withArgs(ethers.ZeroAddress);
      await assets.connect(reviewer).suspend(assetId, REASON);
      await expect(relay(grants, relayer, terms, deadline, await signGrant(alice, grants, terms, deadline)))
        .to.be.revertedWithCustomError(grants, "AssetNotActive")
        .withArgs(assetId, Status.Suspended);
      expect(await grants.nonces(alice.address)).to.equal(0n);
    });

    it("accepts an ERC-1271 contract owner's signature", async function () {
      const { assets, grants, alice, relayer, assetId, terms, deadline } = await loadFixture(assetFixture);
      const wallet = await deployMagicContract(alice, ERC1271_MAGIC);
      await assets.connect(alice).transferFrom(alice.address, wallet, assetId);
      await expect(relay(grants, relayer, terms, deadline, "0x"))
        .to.emit(grants, "GrantCreated")
        .withArgs(1n, assetId, terms.grantee, wallet, PURPOSE, terms.validFrom, terms.expiresAt, 100n, SCOPE);
      expect(await grants.nonces(wallet)).to.equal(1n);
    });
  });

  describe("useNonce (an owner voids a signed, unused grant)", function () {
    it("useNonce emits NonceUsed with the voided nonce and moves the caller's nonce only", async function () {
      const { grants, alice, bob } = await loadFixture(assetFixture);
      expect(await grants.connect(alice).useNonce.staticCall()).to.equal(0n);
      await expect(grants.connect(alice).useNonce()).to.emit(grants, "NonceUsed").withArgs(alice.address, 0n);
      await expect(grants.connect(alice).useNonce()).to.emit(grants, "NonceUsed").withArgs(alice.address, 1n);
      expect(await grants.nonces(alice.address)).to.equal(2n);
      expect(await grants.nonces(bob.address)).to.equal(0n);
    });

    it("a grantBySig signed before useNonce is refused when relayed afterwards (InvalidSignature); a new signature works", async function () {
      const { grants, alice, relayer, terms, deadline } = await loadFixture(assetFixture);
      const signature = await signGrant(alice, grants, terms, deadline);
      await grants.connect(alice).useNonce();
      await expect(grants.connect(relayer).grantBySig(terms, deadline, signature))
        .to.be.revertedWithCustomError(grants, "InvalidSignature")
        .withArgs(alice.address);
      expect(await grants.totalGrants()).to.equal(0n);
      const fresh = await signGrant(alice, grants, terms, deadline);
      await expect(grants.connect(relayer).grantBySig(terms, deadline, fresh)).to.emit(grants, "GrantCreated");
      expect(await grants.nonces(alice.address)).to.equal(2n);
    });
  });

  describe("grantFor (licence sales, ledger only)", function () {
    it("refuses every caller but the ledger (the asset's owner included): NotLedger", async function () {
      const { grants, ledger, alice, deployer, eve, terms } = await loadFixture(assetFixture);
      for (const caller of [alice, deployer, eve]) {
        await expect(grants.connect(caller).grantFor(alice.address, terms))
          .to.be.revertedWithCustomError(grants, "NotLedger")
          .withArgs(caller.address, await ledger.getAddress());
      }
      expect(await grants.totalGrants()).to.equal(0n);
    });

    it("even from the ledger, the grantor must own the active asset (NotAssetOwner, AssetNotActive)", async function () {
      // The ledger checks the seller itself; this pins the registry's own check behind it, by
      // sending from the ledger's address (impersonated on the hardhat network).
      const { assets, grants, ledger, alice, reviewer, eve, assetId, terms } = await loadFixture(assetFixture);
      await asLedger(ledger, async (theLedger) => {
        await expect(grants.connect(theLedger).grantFor(eve.address, terms))
          .to.be.revertedWithCustomError(grants, "NotAssetOwner")
          .withArgs(assetId, eve.address, alice.address);
        await expect(grants.connect(theLedger).grantFor(alice.address, terms))
          .to.emit(grants, "GrantCreated")
          .withArgs(1n, assetId, terms.grantee, alice.address, PURPOSE, terms.validFrom, terms.expiresAt, 100n, SCOPE);
        await assets.connect(reviewer).suspend(assetId, REASON);
        await expect(grants.connect(theLedger).grantFor(alice.address, terms))
          .to.be.revertedWithCustomError(grants, "AssetNotActive")
          .withArgs(assetId, Status.Suspended);
      });
    });
  });

  describe("consume", function () {
    it("refuses every caller but the ledger (owner and grantee included)", async function () {
      const { grants, ledger, alice, bob, deployer, grantId } = await loadFixture(grantFixture);
      for (const caller of [alice, bob, deployer]) {
        await expect(grants.connect(caller).consume(grantId, 1))
          .to.be.revertedWithCustomError(grants, "NotLedger")
          .withArgs(caller.address, await ledger.getAddress());
      }
      expect((await grants.grantOf(grantId)).used).to.equal(0n);
    });
  });

  describe("views", function () {
    /** Grant 1: opens in 1 day, closes in 10 days, quota 3. */
    async function windowFixture() {
      const system = await assetFixture();
      const now = BigInt(await time.latest());
      const terms = { ...system.terms, validFrom: now + BigInt(DAY), expiresAt: now + 10n * BigInt(DAY), quota: 3n };
      await system.grants.connect(system.alice).grant(...grantArgs(terms));
      return { ...system, terms, grantId: 1n };
    }

    it("isUsable answers for any timestamp: false before, true inside, false from expiresAt", async function () {
      const { grants, grantId, terms } = await loadFixture(windowFixture);
      expect(await grants.isUsable(grantId, terms.validFrom - 1n)).to.equal(false);
      expect(await grants.isUsable(grantId, terms.validFrom)).to.equal(true);
      expect(await grants.isUsable(grantId, terms.expiresAt - 1n)).to.equal(true);
      expect(await grants.isUsable(grantId, terms.expiresAt)).to.equal(false);
      expect(await grants.isUsable(grantId, 0)).to.equal(false);
      expect(await grants.isUsable(grantId, 2n ** 256n - 1n)).to.equal(false);
    });

    it("isUsable and usage follow the chain's clock (time.increaseTo)", async function () {
      const { grants, ledger, bob, grantId, terms } = await loadFixture(windowFixture);
      const now = async () => BigInt(await time.latest());
      expect(await grants.isUsable(grantId, await now())).to.equal(false);
      await time.increaseTo(terms.validFrom);
      expect(await grants.isUsable(grantId, await now())).to.equal(true);
      await ledger.connect(bob).recordUsage(grantId, 1, h("receipt:1"));
      await time.increaseTo(terms.expiresAt - 5n);
      expect(await grants.isUsable(grantId, await now())).to.equal(true);
      await time.increaseTo(terms.expiresAt);
      expect(await grants.isUsable(grantId, await now())).to.equal(false);
      expect(await grants.remaining(grantId)).to.equal(2n);
    });

    it("remaining counts down with usage; isUsable turns false when the quota is spent", async function () {
      const { grants, ledger, bob, grantId, terms } = await loadFixture(windowFixture);
      await time.increaseTo(terms.validFrom);
      expect(await grants.remaining(grantId)).to.equal(3n);
      await ledger.connect(bob).recordUsage(grantId, 2, h("receipt:1"));
      expect(await grants.remaining(grantId)).to.equal(1n);
      expect(await grants.isUsable(grantId, terms.validFrom + 10n)).to.equal(true);
      await ledger.connect(bob).recordUsage(grantId, 1, h("receipt:2"));
      expect(await grants.remaining(grantId)).to.equal(0n);
      expect(await grants.isUsable(grantId, terms.validFrom + 10n)).to.equal(false);
      const g = await grants.grantOf(grantId);
      expect([g.used, g.sequence]).to.deep.equal([3n, 2n]);
    });

    it("isUsable is false while the asset is suspended or cancelled, or the grant revoked", async function () {
      const { assets, grants, alice, reviewer, grantId, terms } = await loadFixture(windowFixture);
      const inside = terms.validFrom + 1n;
      await assets.connect(reviewer).suspend(terms.assetId, REASON);
      expect(await grants.isUsable(grantId, inside)).to.equal(false);
      await assets.connect(reviewer).reinstate(terms.assetId, REASON);
      expect(await grants.isUsable(grantId, inside)).to.equal(true);
      await grants.connect(alice).revoke(grantId, REASON);
      expect(await grants.isUsable(grantId, inside)).to.equal(false);
      expect(await grants.remaining(grantId)).to.equal(3n);

      await grants.connect(alice).grant(...grantArgs(terms));
      expect(await grants.isUsable(2, inside)).to.equal(true);
      await assets.connect(alice).cancel(terms.assetId, REASON);
      expect(await grants.isUsable(2, inside)).to.equal(false);
    });

    it("grantOf, isUsable and remaining refuse unknown grants", async function () {
      const { grants } = await loadFixture(windowFixture);
      for (const id of [0n, 2n]) {
        await expect(grants.grantOf(id)).to.be.revertedWithCustomError(grants, "UnknownGrant").withArgs(id);
        await expect(grants.isUsable(id, 0)).to.be.revertedWithCustomError(grants, "UnknownGrant").withArgs(id);
        await expect(grants.remaining(id)).to.be.revertedWithCustomError(grants, "UnknownGrant").withArgs(id);
      }
    });
  });
});
