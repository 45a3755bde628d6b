// ERC-721 behaviour of AssetRegistry (AssetToken over the registry's packed records).
const { expect } = require("chai");
const { ethers } = require("hardhat");
const { loadFixture, time } = require("@nomicfoundation/hardhat-network-helpers");
const {
  Status,
  NOTICE,
  DAY,
  registration,
  BASE_URI,
  ERC1271_MAGIC,
  ERC721_RECEIVED,
  h,
  normalFixture,
  reviewFixture,
  registerAsset,
  deployMagicContract,
  NO_RESERVATION,
  CANCEL_COOLDOWN,
} = require("./helpers/fixtures");

const SAFE_TRANSFER = "safeTransferFrom(address,address,uint256)";
const SAFE_TRANSFER_DATA = "safeTransferFrom(address,address,uint256,bytes)";
const ERC721_APPROVE = "approve(address,uint256)";
const REASON = h("reason");

/** Normal mode, alice owns asset 1. */
async function tokenFixture() {
  const system = await normalFixture();
  const id = await registerAsset(system.assets, system.alice, "token");
  return { ...system, id };
}

/** ERC-165 id of an interface given its function signatures (XOR of the selectors). */
function interfaceId(signatures) {
  return ethers.toBeHex(
    signatures.reduce((acc, sig) => acc ^ BigInt(ethers.id(sig).slice(0, 10)), 0n),
    4,
  );
}

describe("AssetToken (ERC-721)", function () {
  describe("supportsInterface", function () {
    it("computes the standard interface ids the test relies on", function () {
      expect(
        interfaceId([
          "balanceOf(address)",
          "ownerOf(uint256)",
          "safeTransferFrom(address,address,uint256,bytes)",
          "safeTransferFrom(address,address,uint256)",
          "transferFrom(address,address,uint256)",
          "approve(address,uint256)",
          "setApprovalForAll(address,bool)",
          "getApproved(uint256)",
          "isApprovedForAll(address,address)",
        ]),
      ).to.equal("0x80ac58cd");
      expect(interfaceId(["name()", "symbol()", "tokenURI(uint256)"])).to.equal("0x5b5e139f");
      expect(interfaceId(["supportsInterface(bytes4)"])).to.equal("0x01ffc9a7");
      expect(
        interfaceId([
          "hasRole(bytes32,address)",
          "getRoleAdmin(bytes32)",
          "grantRole(bytes32,address)",
          "revokeRole(bytes32,address)",
          "renounceRole(bytes32,address)",
        ]),
      ).to.equal("0x7965db0b");
      expect(
        interfaceId([
          "defaultAdmin()",
          "pendingDefaultAdmin()",
          "defaultAdminDelay()",
          "pendingDefaultAdminDelay()",
          "beginDefaultAdminTransfer(address)",
          "cancelDefaultAdminTransfer()",
          "acceptDefaultAdminTransfer()",
          "changeDefaultAdminDelay(uint48)",
          "rollbackDefaultAdminDelay()",
          "defaultAdminDelayIncreaseWait()",
        ]),
      ).to.equal("0x31498786");
    });

    it("supports ERC-721, ERC-721 metadata, AccessControl, AccessControlDefaultAdminRules and ERC-165", async function () {
      const { assets } = await loadFixture(normalFixture);
      expect(await assets.supportsInterface("0x80ac58cd")).to.equal(true); // IERC721
      expect(await assets.supportsInterface("0x5b5e139f")).to.equal(true); // IERC721Metadata
      expect(await assets.supportsInterface("0x7965db0b")).to.equal(true); // IAccessControl
      expect(await assets.supportsInterface("0x31498786")).to.equal(true); // IAccessControlDefaultAdminRules
      expect(await assets.supportsInterface("0x01ffc9a7")).to.equal(true); // IERC165
    });

    it("supports nothing else (0xffffffff must be false per ERC-165)", async function () {
      const { assets } = await loadFixture(normalFixture);
      for (const id of ["0xffffffff", "0x00000000", "0x780e9d63" /* ERC721Enumerable */, "0x12345678"]) {
        expect(await assets.supportsInterface(id)).to.equal(false);
      }
    });
  });

  describe("views", function () {
    it("balanceOf counts tokens and refuses the zero address", async function () {
      const { assets, alice, bob } = await loadFixture(tokenFixture);
      expect(await assets.balanceOf(alice.address)).to.equal(1n);
      expect(await assets.balanceOf(bob.address)).to.equal(0n);
      await expect(assets.balanceOf(ethers.ZeroAddress))
        .to.be.revertedWithCustomError(assets, "ERC721InvalidOwner")
        .withArgs(ethers.ZeroAddress);
    });

    it("ownerOf refuses unknown tokens (0 included)", async function () {
      const { assets, alice, id } = await loadFixture(tokenFixture);
      expect(await assets.ownerOf(id)).to.equal(alice.address);
      for (const unknown of [0n, 2n, 2n ** 256n - 1n]) {
        await expect(assets.ownerOf(unknown))
          .to.be.revertedWithCustomError(assets, "ERC721NonexistentToken")
          .withArgs(unknown);
      }
    });

    it("tokenURI is the base URI followed by the id", async function () {
      const { assets, alice, id } = await loadFixture(tokenFixture);
      expect(await assets.tokenURI(id)).to.equal(`${BASE_URI}1`);
      for (let i = 2; i <= 10; i += 1) await registerAsset(assets, alice, `more-${i}`);
      expect(await assets.tokenURI(10)).to.equal(`${BASE_URI}10`);
    });

    it("tokenURI is empty without a base URI", async function () {
      const { assets, alice } = await loadFixture(reviewFixture);
      const id = await registerAsset(assets, alice, "a");
      expect(await assets.tokenURI(id)).to.equal("");
    });

    it("tokenURI refuses unknown tokens", async function () {
      const { assets } = await loadFixture(tokenFixture);
      await expect(assets.tokenURI(2)).to.be.revertedWithCustomError(assets, "ERC721NonexistentToken").withArgs(2n);
    });

    it("tokenURI and ownerOf still answer for a cancelled asset (records are never erased)", async function () {
      const { assets, alice, id } = await loadFixture(tokenFixture);
      await assets.connect(alice).cancel(id, REASON);
      expect(await assets.ownerOf(id)).to.equal(alice.address);
      expect(await assets.tokenURI(id)).to.equal(`${BASE_URI}1`);
    });
  });

  describe("approve / getApproved", function () {
    it("the owner approves an address, which may then transfer once", async function () {
      const { assets, alice, bob, carol, id } = await loadFixture(tokenFixture);
      expect(await assets.getApproved(id)).to.equal(ethers.ZeroAddress);
      await expect(assets.connect(alice)[ERC721_APPROVE](bob.address, id))
        .to.emit(assets, "Approval")
        .withArgs(alice.address, bob.address, id);
      expect(await assets.getApproved(id)).to.equal(bob.address);

      await expect(assets.connect(bob).transferFrom(alice.address, carol.address, id))
        .to.emit(assets, "Transfer")
        .withArgs(alice.address, carol.address, id);
      expect(await assets.ownerOf(id)).to.equal(carol.address);
      // The approval is cleared by the transfer.
      expect(await assets.getApproved(id)).to.equal(ethers.ZeroAddress);
      await expect(assets.connect(bob).transferFrom(carol.address, bob.address, id))
        .to.be.revertedWithCustomError(assets, "ERC721InsufficientApproval")
        .withArgs(bob.address, id);
    });

    it("an operator-for-all may approve on the owner's behalf", async function () {
      const { assets, alice, bob, carol, id } = await loadFixture(tokenFixture);
      await assets.connect(alice).setApprovalForAll(bob.address, true);
      await expect(assets.connect(bob)[ERC721_APPROVE](carol.address, id))
        .to.emit(assets, "Approval")
        .withArgs(alice.address, carol.address, id);
      expect(await assets.getApproved(id)).to.equal(carol.address);
    });

    it("approving the zero address clears the approval", async function () {
      const { assets, alice, bob, id } = await loadFixture(tokenFixture);
      await assets.connect(alice)[ERC721_APPROVE](bob.address, id);
      await expect(assets.connect(alice)[ERC721_APPROVE](ethers.ZeroAddress, id))
        .to.emit(assets, "Approval")
        .withArgs(alice.address, ethers.ZeroAddress, id);
      await expect(assets.connect(bob).transferFrom(alice.address, bob.address, id))
        .to.be.revertedWithCustomError(assets, "ERC721InsufficientApproval")
        .withArgs(bob.address, id);
    });

    it("refuses approvers that are neither owner nor operator (an approved address included)", async function () {
      const { assets, alice, bob, carol, id } = await loadFixture(tokenFixture);
      await expect(assets.connect(bob)[ERC721_APPROVE](bob.address, id))
        .to.be.revertedWithCustomError(assets, "ERC721InvalidApprover")
        .withArgs(bob.address);
      await assets.connect(alice)[ERC721_APPROVE](bob.address, id);
      await expect(assets.connect(bob)[ERC721_APPROVE](carol.address, id))
        .to.be.revertedWithCustomError(assets, "ERC721InvalidApprover")
        .withArgs(bob.address);
    });

    it("refuses unknown tokens", async function () {
      const { assets, alice, bob } = await loadFixture(tokenFixture);
      await expect(assets.connect(alice)[ERC721_APPROVE](bob.address, 9))
        .to.be.revertedWithCustomError(assets, "ERC721NonexistentToken")
        .withArgs(9n);
      await expect(assets.getApproved(9)).to.be.revertedWithCustomError(assets, "ERC721NonexistentToken").withArgs(9n);
    });
  });

  describe("setApprovalForAll / isApprovedForAll", function () {
    it("an operator may transfer every token of the owner until removed", async function () {
      const { assets, alice, bob, carol, id } = await loadFixture(tokenFixture);
      const second = await registerAsset(assets, alice, "second");
      expect(await assets.isApprovedForAll(alice.address, bob.address)).to.equal(false);
      await expect(assets.connect(alice).setApprovalForAll(bob.address, true))
        .to.emit(assets, "ApprovalForAll")
        .withArgs(alice.address, bob.address, true);
      expect(await assets.isApprovedForAll(alice.address, bob.address)).to.equal(true);
      expect(await assets.isApprovedForAll(bob.address, alice.address)).to.equal(false);

      await expect(assets.connect(bob).transferFrom(alice.address, carol.address, id))
        .to.emit(assets, "Transfer")
        .withArgs(alice.address, carol.address, id);

      await expect(assets.connect(alice).setApprovalForAll(bob.address, false))
        .to.emit(assets, "ApprovalForAll")
        .withArgs(alice.address, bob.address, false);
      expect(await assets.isApprovedForAll(alice.address, bob.address)).to.equal(false);
      await expect(assets.connect(bob).transferFrom(alice.address, carol.address, second))
        .to.be.revertedWithCustomError(assets, "ERC721InsufficientApproval")
        .withArgs(bob.address, second);
    });

    it("refuses the zero operator", async function () {
      const { assets, alice } = await loadFixture(tokenFixture);
      await expect(assets.connect(alice).setApprovalForAll(ethers.ZeroAddress, true))
        .to.be.revertedWithCustomError(assets, "ERC721InvalidOperator")
        .withArgs(ethers.ZeroAddress);
    });

    it("does not survive a transfer of the token to a new owner", async function () {
      const { assets, alice, bob, carol, id } = await loadFixture(tokenFixture);
      await assets.connect(alice).setApprovalForAll(carol.address, true);
      await assets.connect(alice).transferFrom(alice.address, bob.address, id);
      await expect(assets.connect(carol).transferFrom(bob.address, carol.address, id))
        .to.be.revertedWithCustomError(assets, "ERC721InsufficientApproval")
        .withArgs(carol.address, id);
    });
  });

  describe("transferFrom", function () {
    it("moves the token, balances and the record's owner; the registrant stays the first owner", async function () {
      const { assets, alice, bob, carol, id } = await loadFixture(tokenFixture);
      await expect(assets.connect(alice).transferFrom(alice.address, bob.address, id))
        .to.emit(assets, "Transfer")
        .withArgs(alice.address, bob.address, id);
      expect(await assets.ownerOf(id)).to.equal(bob.address);
      expect(await assets.balanceOf(alice.address)).to.equal(0n);
      expect(await assets.balanceOf(bob.address)).to.equal(1n);
      let asset = await assets.assetOf(id);
      expect(asset.owner).to.equal(bob.address);
      expect(asset.registrant).to.equal(alice.address);
      expect(await assets.ownerAndStatus(id)).to.deep.equal([bob.address, BigInt(Status.Active)]);

      await assets.connect(bob).transferFrom(bob.address, carol.address, id);
      asset = await assets.assetOf(id);
      expect(asset.owner).to.equal(carol.address);
      expect(asset.registrant).to.equal(alice.address);

      // Back to the registrant and away again: still alice.
      await assets.connect(carol).transferFrom(carol.address, alice.address, id);
      await assets.connect(alice).transferFrom(alice.address, bob.address, id);
      asset = await assets.assetOf(id);
      expect(asset.registrant).to.equal(alice.address);
      expect(asset.owner).to.equal(bob.address);
    });

    it("each asset keeps its own registrant (per-token, not per-account)", async function () {
      const { assets, alice, bob } = await loadFixture(tokenFixture);
      await assets.connect(alice).transferFrom(alice.address, bob.address, 1);
      const other = await registerAsset(assets, bob, "bobs");
      const asset = await assets.assetOf(other);
      expect(asset.registrant).to.equal(bob.address);
      expect((await assets.assetOf(1)).registrant).to.equal(alice.address);
    });

    it("a transfer to oneself keeps balance and owner", async function () {
      const { assets, alice, id } = await loadFixture(tokenFixture);
      await expect(assets.connect(alice).transferFrom(alice.address, alice.address, id))
        .to.emit(assets, "Transfer")
        .withArgs(alice.address, alice.address, id);
      expect(await assets.balanceOf(alice.address)).to.equal(1n);
      expect(await assets.ownerOf(id)).to.equal(alice.address);
      expect((await assets.assetOf(id)).registrant).to.equal(alice.address);
    });

    it("refuses the zero receiver, a wrong `from`, an unapproved caller and unknown tokens", async function () {
      const { assets, alice, bob, eve, id } = await loadFixture(tokenFixture);
      await expect(assets.connect(alice).transferFrom(alice.address, ethers.ZeroAddress, id))
        .to.be.revertedWithCustomError(assets, "ERC721InvalidReceiver")
        .withArgs(ethers.ZeroAddress);
      await expect(assets.connect(alice).transferFrom(bob.address, eve.address, id))
        .to.be.revertedWithCustomError(assets, "ERC721IncorrectOwner")
        .withArgs(bob.address, id, alice.address);
      await expect(assets.connect(eve).transferFrom(alice.address, eve.address, id))
        .to.be.revertedWithCustomError(assets, "ERC721InsufficientApproval")
        .withArgs(eve.address, id);
      await expect(assets.connect(alice).transferFrom(alice.address, bob.address, 5))
        .to.be.revertedWithCustomError(assets, "ERC721NonexistentToken")
        .withArgs(5n);
      expect(await assets.ownerOf(id)).to.equal(alice.address);
    });

    it("a pending asset may move (review mode) and becomes active under its new owner when the notice ends", async function () {
      const { assets, alice, bob } = await loadFixture(reviewFixture);
      const id = await registerAsset(assets, alice, "pending");
      await assets.connect(alice).transferFrom(alice.address, bob.address, id);
      expect(await assets.ownerAndStatus(id)).to.deep.equal([bob.address, BigInt(Status.Pending)]);
      await time.increase(NOTICE);
      const asset = await assets.assetOf(id);
      expect(asset.status).to.equal(BigInt(Status.Active));
      expect(asset.owner).to.equal(bob.address);
      expect(asset.registrant).to.equal(alice.address);
    });

    it("freezes a suspended asset (owner, approved and operator alike); reinstating unfreezes", async function () {
      const { assets, alice, bob, carol, reviewer, id } = await loadFixture(tokenFixture);
      await assets.connect(alice)[ERC721_APPROVE](bob.address, id);
      await assets.connect(alice).setApprovalForAll(carol.address, true);
      await assets.connect(reviewer).suspend(id, REASON);
      for (const caller of [alice, bob, carol]) {
        await expect(assets.connect(caller).transferFrom(alice.address, bob.address, id))
          .to.be.revertedWithCustomError(assets, "AssetNotTransferable")
          .withArgs(id, Status.Suspended);
      }
      await expect(assets.connect(alice)[SAFE_TRANSFER](alice.address, bob.address, id))
        .to.be.revertedWithCustomError(assets, "AssetNotTransferable")
        .withArgs(id, Status.Suspended);
      await assets.connect(reviewer).reinstate(id, REASON);
      await expect(assets.connect(bob).transferFrom(alice.address, bob.address, id))
        .to.emit(assets, "Transfer")
        .withArgs(alice.address, bob.address, id);
    });

    it("freezes a disputed asset (review mode)", async function () {
      const { assets, alice, bob, eve } = await loadFixture(reviewFixture);
      const id = await registerAsset(assets, alice, "disputed");
      await assets.connect(eve).object(id, h("evidence"));
      await expect(assets.connect(alice).transferFrom(alice.address, bob.address, id))
        .to.be.revertedWithCustomError(assets, "AssetNotTransferable")
        .withArgs(id, Status.Disputed);
      await time.increase(NOTICE);
      await expect(assets.connect(alice).transferFrom(alice.address, bob.address, id))
        .to.be.revertedWithCustomError(assets, "AssetNotTransferable")
        .withArgs(id, Status.Disputed);
    });

    it("freezes an expired asset; renewed, it moves again", async function () {
      const { assets, alice, bob } = await loadFixture(normalFixture);
      const validUntil = BigInt(await time.latest()) + BigInt(DAY);
      const id = await registerAsset(assets, alice, "expiring", { validUntil });
      await time.increaseTo(validUntil);
      await expect(assets.connect(alice).transferFrom(alice.address, bob.address, id))
        .to.be.revertedWithCustomError(assets, "AssetNotTransferable")
        .withArgs(id, Status.Expired);
      await assets.connect(alice).renew(id, validUntil + BigInt(DAY));
      await expect(assets.connect(alice).transferFrom(alice.address, bob.address, id))
        .to.emit(assets, "Transfer")
        .withArgs(alice.address, bob.address, id);
    });

    it("a released token (its root registered again after CANCEL_COOLDOWN) still answers ownerOf and tokenURI but never moves", async function () {
      const { assets, alice, bob, carol, id } = await loadFixture(tokenFixture);
      await assets.connect(alice).setApprovalForAll(carol.address, true);
      await assets.connect(alice).cancel(id, REASON);
      await time.increase(CANCEL_COOLDOWN);
      await assets.connect(bob).register(registration("token"), ethers.ZeroHash);
      expect(await assets.ownerOf(id)).to.equal(alice.address);
      expect(await assets.ownerOf(2)).to.equal(bob.address);
      expect(await assets.tokenURI(id)).to.equal(`${BASE_URI}1`);
      for (const caller of [alice, carol]) {
        await expect(assets.connect(caller).transferFrom(alice.address, bob.address, id))
          .to.be.revertedWithCustomError(assets, "AssetNotTransferable")
          .withArgs(id, Status.Cancelled);
      }
      // The new registration of the same root moves normally.
      await expect(assets.connect(bob).transferFrom(bob.address, carol.address, 2))
        .to.emit(assets, "Transfer")
        .withArgs(bob.address, carol.address, 2n);
      expect(await assets.ownerOf(id)).to.equal(alice.address);
    });

    it("freezes cancelled and rejected assets for good", async function () {
      const { assets, alice, bob, id } = await loadFixture(tokenFixture);
      await assets.connect(alice).cancel(id, REASON);
      await expect(assets.connect(alice).transferFrom(alice.address, bob.address, id))
        .to.be.revertedWithCustomError(assets, "AssetNotTransferable")
        .withArgs(id, Status.Cancelled);

      const review = await loadFixture(reviewFixture);
      const rejected = await registerAsset(review.assets, review.alice, "rejected");
      await review.assets.connect(review.reviewer).rejectRegistration(rejected, REASON, NO_RESERVATION);
      await expect(review.assets.connect(review.alice).transferFrom(review.alice.address, review.bob.address, rejected))
        .to.be.revertedWithCustomError(review.assets, "AssetNotTransferable")
        .withArgs(rejected, Status.Rejected);
    });
  });

  describe("safeTransferFrom", function () {
    it("to an EOA behaves like transferFrom (with and without data)", async function () {
      const { assets, alice, bob, carol, id } = await loadFixture(tokenFixture);
      await expect(assets.connect(alice)[SAFE_TRANSFER](alice.address, bob.address, id))
        .to.emit(assets, "Transfer")
        .withArgs(alice.address, bob.address, id);
      await expect(assets.connect(bob)[SAFE_TRANSFER_DATA](bob.address, carol.address, id, "0xc0ffee"))
        .to.emit(assets, "Transfer")
        .withArgs(bob.address, carol.address, id);
      expect(await assets.ownerOf(id)).to.equal(carol.address);
      expect((await assets.assetOf(id)).registrant).to.equal(alice.address);
    });

    it("to a contract without onERC721Received reverts ERC721InvalidReceiver", async function () {
      const { assets, grants, ledger, alice, id } = await loadFixture(tokenFixture);
      for (const receiver of [await grants.getAddress(), await ledger.getAddress(), await assets.getAddress()]) {
        await expect(assets.connect(alice)[SAFE_TRANSFER](alice.address, receiver, id))
          .to.be.revertedWithCustomError(assets, "ERC721InvalidReceiver")
          .withArgs(receiver);
        await expect(assets.connect(alice)[SAFE_TRANSFER_DATA](alice.address, receiver, id, "0x01"))
          .to.be.revertedWithCustomError(assets, "ERC721InvalidReceiver")
          .withArgs(receiver);
      }
      expect(await assets.ownerOf(id)).to.equal(alice.address);
    });

    it("to a contract answering the wrong selector reverts ERC721InvalidReceiver", async function () {
      const { assets, alice, id } = await loadFixture(tokenFixture);
      const wrong = await deployMagicContract(alice, ERC1271_MAGIC);
      await expect(assets.connect(alice)[SAFE_TRANSFER](alice.address, wrong, id))
        .to.be.revertedWithCustomError(assets, "ERC721InvalidReceiver")
        .withArgs(wrong);
    });

    it("to a contract answering onERC721Received's selector succeeds; plain transferFrom needs no answer", async function () {
      const { assets, grants, alice, id } = await loadFixture(tokenFixture);
      const receiver = await deployMagicContract(alice, ERC721_RECEIVED);
      await expect(assets.connect(alice)[SAFE_TRANSFER](alice.address, receiver, id))
        .to.emit(assets, "Transfer")
        .withArgs(alice.address, receiver, id);
      expect(await assets.ownerOf(id)).to.equal(receiver);

      const second = await registerAsset(assets, alice, "second");
      await assets.connect(alice).transferFrom(alice.address, await grants.getAddress(), second);
      expect(await assets.ownerOf(second)).to.equal(await grants.getAddress());
    });
  });
});
