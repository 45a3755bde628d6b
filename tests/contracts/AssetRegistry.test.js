// AssetRegistry: registration, lineage, registerBySig (EIP-712), status moves, reviewers, batches.
// ERC-721 behaviour is in AssetToken.test.js.
const { expect } = require("chai");
const { ethers } = require("hardhat");
const { loadFixture, setStorageAt } = require("@nomicfoundation/hardhat-network-helpers");
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const {
  Status,
  Lineage,
  Rights,
  REGISTER,
  ERC1271_MAGIC,
  UINT32_MAX,
  h,
  chainId,
  signRegister,
  normalFixture,
  reviewFixture,
  registerAsset,
  nextBlockAt,
  findSlot,
  deployMagicContract,
} = require("./helpers/fixtures");

const DEFAULT_ADMIN_ROLE = ethers.ZeroHash;
// The reviewer's approve(uint256,bytes32) overloads ERC-721 approve(address,uint256): ethers
// needs the full signature.
const APPROVE = "approveRegistration";
const ROOT = h("content:dataset-a");
const MANIFEST = h("manifest:dataset-a");

describe("AssetRegistry", function () {
  describe("deployment", function () {
    it("sets name, symbol, review mode and the admin (the deployer holds no role)", async function () {
      const { assets, admin, deployer, reviewer, REVIEWER_ROLE } = await loadFixture(normalFixture);
      expect(await assets.name()).to.equal("dataseal data asset");
      expect(await assets.symbol()).to.equal("SEAL");
      expect(await assets.reviewMode()).to.equal(false);
      expect(await assets.hasRole(DEFAULT_ADMIN_ROLE, admin.address)).to.equal(true);
      expect(await assets.hasRole(DEFAULT_ADMIN_ROLE, deployer.address)).to.equal(false);
      expect(await assets.hasRole(REVIEWER_ROLE, reviewer.address)).to.equal(true);
      expect(await assets.hasRole(REVIEWER_ROLE, admin.address)).to.equal(false);
      expect(await assets.getRoleAdmin(REVIEWER_ROLE)).to.equal(DEFAULT_ADMIN_ROLE);
      expect(await assets.totalAssets()).to.equal(0n);
      expect(await assets.totalBatches()).to.equal(0n);
    });

    it("review mode is fixed at deployment", async function () {
      const { assets } = await loadFixture(reviewFixture);
      expect(await assets.reviewMode()).to.equal(true);
    });

    it("exposes its constants", async function () {
      const { assets } = await loadFixture(normalFixture);
      expect(await assets.REVIEWER_ROLE()).to.equal(ethers.id("REVIEWER_ROLE"));
      expect(await assets.RIGHTS_MASK()).to.equal(7n);
      expect(await assets.MAX_CLASSIFICATION()).to.equal(3n);
      expect(await assets.MAX_BATCH_COUNT()).to.equal(2n ** 24n - 1n);
    });
  });

  describe("EIP-712", function () {
    it("REGISTER_TYPEHASH is keccak256 of the type string in the comment beside it", async function () {
      const { assets } = await loadFixture(normalFixture);
      // The Python signer uses this exact string too.
      expect(REGISTER.typeString).to.equal(
        "Register(address owner,bytes32 contentRoot,bytes32 manifestHash,uint8 rightsType," +
          "uint8 classification,uint256 parentId,uint256 nonce,uint256 deadline)",
      );
      expect(ethers.TypedDataEncoder.from(REGISTER.types).encodeType("Register")).to.equal(REGISTER.typeString);
      expect(await assets.REGISTER_TYPEHASH()).to.equal(ethers.keccak256(ethers.toUtf8Bytes(REGISTER.typeString)));
    });

    it("publishes its domain (ERC-5267) and DOMAIN_SEPARATOR matching it", async function () {
      const { assets } = await loadFixture(normalFixture);
      const domain = await assets.eip712Domain();
      expect(domain.fields).to.equal("0x0f");
      expect(domain.name).to.equal("dataseal AssetRegistry");
      expect(domain.version).to.equal("1");
      expect(domain.chainId).to.equal(await chainId());
      expect(domain.verifyingContract).to.equal(await assets.getAddress());
      expect(domain.salt).to.equal(ethers.ZeroHash);
      expect(domain.extensions).to.deep.equal([]);
      expect(await assets.DOMAIN_SEPARATOR()).to.equal(
        ethers.TypedDataEncoder.hashDomain({
          name: domain.name,
          version: domain.version,
          chainId: domain.chainId,
          verifyingContract: domain.verifyingContract,
        }),
      );
    });
  });

  describe("register", function () {
    it("mints to the caller, stores the record and emits Transfer and AssetRegistered", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      expect(await assets.connect(alice).register.staticCall(ROOT, MANIFEST, 3, 2, 0)).to.equal(1n);
      const t = await nextBlockAt();
      const tx = assets.connect(alice).register(ROOT, MANIFEST, 3, 2, 0);
      await expect(tx).to.emit(assets, "Transfer").withArgs(ethers.ZeroAddress, alice.address, 1n);
      await expect(tx)
        .to.emit(assets, "AssetRegistered")
        .withArgs(1n, alice.address, ROOT, MANIFEST, 3, 2, Status.Active, 0n, Lineage.None, t);

      const asset = await assets.assetOf(1);
      expect(asset.assetId).to.equal(1n);
      expect(asset.contentRoot).to.equal(ROOT);
      expect(asset.manifestHash).to.equal(MANIFEST);
      expect(asset.owner).to.equal(alice.address);
      expect(asset.registrant).to.equal(alice.address);
      expect(asset.registeredAt).to.equal(t);
      expect(asset.rightsType).to.equal(3n);
      expect(asset.classification).to.equal(2n);
      expect(asset.status).to.equal(BigInt(Status.Active));
      expect(asset.parentId).to.equal(0n);
      expect(asset.lineage).to.equal(BigInt(Lineage.None));

      expect(await assets.assetIdOf(ROOT)).to.equal(1n);
      expect(await assets.assetIdOf(h("never registered"))).to.equal(0n);
      expect(await assets.ownerAndStatus(1)).to.deep.equal([alice.address, BigInt(Status.Active)]);
      expect(await assets.statusOf(1)).to.equal(BigInt(Status.Active));
      expect(await assets.ownerOf(1)).to.equal(alice.address);
      expect(await assets.balanceOf(alice.address)).to.equal(1n);
      expect(await assets.totalAssets()).to.equal(1n);
    });

    it("numbers assets 1, 2, 3 across registrants", async function () {
      const { assets, alice, bob } = await loadFixture(normalFixture);
      expect(await registerAsset(assets, alice, "a")).to.equal(1n);
      expect(await registerAsset(assets, bob, "b")).to.equal(2n);
      expect(await registerAsset(assets, alice, "c")).to.equal(3n);
      expect(await assets.totalAssets()).to.equal(3n);
      expect(await assets.balanceOf(alice.address)).to.equal(2n);
      expect(await assets.balanceOf(bob.address)).to.equal(1n);
    });

    it("in review mode starts pending", async function () {
      const { assets, alice } = await loadFixture(reviewFixture);
      await expect(assets.connect(alice).register(ROOT, MANIFEST, Rights.HOLDING, 0, 0))
        .to.emit(assets, "AssetRegistered")
        .withArgs(1n, alice.address, ROOT, MANIFEST, Rights.HOLDING, 0, Status.Pending, 0n, Lineage.None, anyTime());
      expect(await assets.statusOf(1)).to.equal(BigInt(Status.Pending));
    });

    it("accepts every non-empty rights bitmask 1..7 and classifications 0..3", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      for (let rights = 1; rights <= 7; rights += 1) {
        const id = await registerAsset(assets, alice, `rights-${rights}`, { rightsType: rights, classification: rights % 4 });
        const asset = await assets.assetOf(id);
        expect(asset.rightsType).to.equal(BigInt(rights));
        expect(asset.classification).to.equal(BigInt(rights % 4));
      }
    });

    it("refuses rights type 0 and any bit outside the mask (8, 255)", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      for (const rights of [0, 8, 9, 255]) {
        await expect(assets.connect(alice).register(ROOT, MANIFEST, rights, 0, 0))
          .to.be.revertedWithCustomError(assets, "InvalidRightsType")
          .withArgs(rights);
      }
    });

    it("refuses classification 4 and above", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      for (const classification of [4, 255]) {
        await expect(assets.connect(alice).register(ROOT, MANIFEST, 1, classification, 0))
          .to.be.revertedWithCustomError(assets, "InvalidClassification")
          .withArgs(classification);
      }
    });

    it("refuses a zero content root and a zero manifest hash", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      await expect(assets.connect(alice).register(ethers.ZeroHash, MANIFEST, 1, 0, 0))
        .to.be.revertedWithCustomError(assets, "InvalidContentRoot")
        .withArgs(ethers.ZeroHash);
      await expect(assets.connect(alice).register(ROOT, ethers.ZeroHash, 1, 0, 0))
        .to.be.revertedWithCustomError(assets, "InvalidManifestHash")
        .withArgs(ethers.ZeroHash);
    });

    it("refuses a repeated content root, naming the first registration (any caller, any manifest)", async function () {
      const { assets, alice, bob } = await loadFixture(normalFixture);
      await registerAsset(assets, alice, "other");
      await assets.connect(alice).register(ROOT, MANIFEST, 1, 0, 0);
      await expect(assets.connect(bob).register(ROOT, h("manifest:bob"), 2, 1, 0))
        .to.be.revertedWithCustomError(assets, "AssetAlreadyRegistered")
        .withArgs(ROOT, 2n);
      await expect(assets.connect(alice).register(ROOT, MANIFEST, 1, 0, 0))
        .to.be.revertedWithCustomError(assets, "AssetAlreadyRegistered")
        .withArgs(ROOT, 2n);
    });

    it("keeps a cancelled asset's root taken", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      await assets.connect(alice).register(ROOT, MANIFEST, 1, 0, 0);
      await assets.connect(alice).cancel(1, h("reason:withdrawn"));
      await expect(assets.connect(alice).register(ROOT, MANIFEST, 1, 0, 0))
        .to.be.revertedWithCustomError(assets, "AssetAlreadyRegistered")
        .withArgs(ROOT, 1n);
    });

    it("keeps a rejected asset's root taken (review mode)", async function () {
      const { assets, alice, bob, reviewer } = await loadFixture(reviewFixture);
      await assets.connect(alice).register(ROOT, MANIFEST, 1, 0, 0);
      await assets.connect(reviewer).rejectRegistration(1, h("reason:not hers"));
      await expect(assets.connect(bob).register(ROOT, MANIFEST, 1, 0, 0))
        .to.be.revertedWithCustomError(assets, "AssetAlreadyRegistered")
        .withArgs(ROOT, 1n);
    });

    it("with a parent records Derived lineage (the parent may belong to someone else)", async function () {
      const { assets, alice, bob } = await loadFixture(normalFixture);
      const parent = await registerAsset(assets, alice, "parent");
      const root = h("content:derived");
      await expect(assets.connect(bob).register(root, MANIFEST, 2, 1, parent))
        .to.emit(assets, "AssetRegistered")
        .withArgs(2n, bob.address, root, MANIFEST, 2, 1, Status.Active, parent, Lineage.Derived, anyTime());
      const asset = await assets.assetOf(2);
      expect(asset.parentId).to.equal(parent);
      expect(asset.lineage).to.equal(BigInt(Lineage.Derived));
      expect(asset.owner).to.equal(bob.address);
    });

    it("refuses an unknown parent", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      await expect(assets.connect(alice).register(ROOT, MANIFEST, 1, 0, 1))
        .to.be.revertedWithCustomError(assets, "UnknownAsset")
        .withArgs(1n);
      await registerAsset(assets, alice, "parent");
      await expect(assets.connect(alice).register(ROOT, MANIFEST, 1, 0, 7))
        .to.be.revertedWithCustomError(assets, "UnknownAsset")
        .withArgs(7n);
    });

    it("assigns the last id 2**32-1, then reverts IdSpaceExhausted", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      // Counters {uint32 assets; uint32 batches} share one slot: find it by its value.
      for (const label of ["a", "b", "c"]) await registerAsset(assets, alice, label);
      await assets.connect(alice).anchorBatch(h("batch:1"), 1, h("bm:1"));
      await assets.connect(alice).anchorBatch(h("batch:2"), 1, h("bm:2"));
      const slot = await findSlot(await assets.getAddress(), 3n | (2n << 32n));
      await setStorageAt(await assets.getAddress(), slot, (UINT32_MAX - 1n) | (2n << 32n));

      const lastId = await registerAsset(assets, alice, "last");
      expect(lastId).to.equal(UINT32_MAX);
      expect(await assets.ownerOf(UINT32_MAX)).to.equal(alice.address);
      expect(await assets.totalBatches()).to.equal(2n);
      await expect(assets.connect(alice).register(h("content:one too many"), MANIFEST, 1, 0, 0))
        .to.be.revertedWithCustomError(assets, "IdSpaceExhausted")
        .withArgs(UINT32_MAX);
    });
  });

  describe("registerVersion", function () {
    it("lets the parent's owner register a Version", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      const parent = await registerAsset(assets, alice, "v1");
      const root = h("content:v2");
      expect(await assets.connect(alice).registerVersion.staticCall(parent, root, MANIFEST, 1, 0)).to.equal(2n);
      await expect(assets.connect(alice).registerVersion(parent, root, MANIFEST, 1, 0))
        .to.emit(assets, "AssetRegistered")
        .withArgs(2n, alice.address, root, MANIFEST, 1, 0, Status.Active, parent, Lineage.Version, anyTime());
      const asset = await assets.assetOf(2);
      expect(asset.parentId).to.equal(parent);
      expect(asset.lineage).to.equal(BigInt(Lineage.Version));
    });

    it("refuses a caller who does not own the parent", async function () {
      const { assets, alice, bob } = await loadFixture(normalFixture);
      const parent = await registerAsset(assets, alice, "v1");
      await expect(assets.connect(bob).registerVersion(parent, ROOT, MANIFEST, 1, 0))
        .to.be.revertedWithCustomError(assets, "NotAssetOwner")
        .withArgs(parent, bob.address, alice.address);
    });

    it("follows the token: the old owner is refused after a transfer, the new owner may", async function () {
      const { assets, alice, bob } = await loadFixture(normalFixture);
      const parent = await registerAsset(assets, alice, "v1");
      await assets.connect(alice).transferFrom(alice.address, bob.address, parent);
      await expect(assets.connect(alice).registerVersion(parent, ROOT, MANIFEST, 1, 0))
        .to.be.revertedWithCustomError(assets, "NotAssetOwner")
        .withArgs(parent, alice.address, bob.address);
      await expect(assets.connect(bob).registerVersion(parent, ROOT, MANIFEST, 1, 0))
        .to.emit(assets, "AssetRegistered")
        .withArgs(2n, bob.address, ROOT, MANIFEST, 1, 0, Status.Active, parent, Lineage.Version, anyTime());
    });

    it("refuses an unknown parent", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      await expect(assets.connect(alice).registerVersion(5, ROOT, MANIFEST, 1, 0))
        .to.be.revertedWithCustomError(assets, "UnknownAsset")
        .withArgs(5n);
    });

    it("validates the new record like register", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      const parent = await registerAsset(assets, alice, "v1");
      await expect(assets.connect(alice).registerVersion(parent, h("content:v1"), MANIFEST, 1, 0))
        .to.be.revertedWithCustomError(assets, "AssetAlreadyRegistered")
        .withArgs(h("content:v1"), parent);
      await expect(assets.connect(alice).registerVersion(parent, ROOT, MANIFEST, 0, 0))
        .to.be.revertedWithCustomError(assets, "InvalidRightsType")
        .withArgs(0);
    });
  });

  describe("registerBySig", function () {
    async function sigFixture() {
      const system = await normalFixture();
      const deadline = BigInt(await ethers.provider.getBlock("latest").then((b) => b.timestamp)) + 3600n;
      const request = {
        owner: system.alice.address,
        contentRoot: ROOT,
        manifestHash: MANIFEST,
        rightsType: Rights.HOLDING | Rights.OPERATION,
        classification: 2,
        parentId: 0n,
        deadline,
      };
      return { ...system, request };
    }

    const send = (assets, relayer, r, signature) =>
      assets
        .connect(relayer)
        .registerBySig(r.owner, r.contentRoot, r.manifestHash, r.rightsType, r.classification, r.parentId, r.deadline, signature);

    it("mints to the signer when anyone relays the signed request, and moves the nonce", async function () {
      const { assets, alice, relayer, request } = await loadFixture(sigFixture);
      expect(await assets.nonces(alice.address)).to.equal(0n);
      const signature = await signRegister(alice, assets, request);
      const tx = send(assets, relayer, request, signature);
      await expect(tx).to.emit(assets, "Transfer").withArgs(ethers.ZeroAddress, alice.address, 1n);
      await expect(tx)
        .to.emit(assets, "AssetRegistered")
        .withArgs(1n, alice.address, ROOT, MANIFEST, 5, 2, Status.Active, 0n, Lineage.None, anyTime());
      expect(await assets.nonces(alice.address)).to.equal(1n);
      expect(await assets.nonces(relayer.address)).to.equal(0n);
      const asset = await assets.assetOf(1);
      expect(asset.owner).to.equal(alice.address);
      expect(asset.registrant).to.equal(alice.address);
      expect(await assets.balanceOf(relayer.address)).to.equal(0n);
    });

    it("refuses the same signature twice (the nonce moved)", async function () {
      const { assets, alice, relayer, request } = await loadFixture(sigFixture);
      const signature = await signRegister(alice, assets, request);
      await send(assets, relayer, request, signature);
      // Even with a fresh root the old signature no longer matches: refused for the nonce, not the root.
      await expect(send(assets, relayer, request, signature))
        .to.be.revertedWithCustomError(assets, "InvalidSignature")
        .withArgs(alice.address);
    });

    it("accepts nonces strictly in order", async function () {
      const { assets, alice, relayer, request } = await loadFixture(sigFixture);
      const second = { ...request, contentRoot: h("content:second") };
      const early = await signRegister(alice, assets, { ...second, nonce: 1n });
      await expect(send(assets, relayer, second, early))
        .to.be.revertedWithCustomError(assets, "InvalidSignature")
        .withArgs(alice.address);
      await send(assets, relayer, request, await signRegister(alice, assets, request));
      await expect(send(assets, relayer, second, early)).to.emit(assets, "AssetRegistered");
      expect(await assets.nonces(alice.address)).to.equal(2n);
    });

    it("refuses an expired deadline and accepts a deadline equal to the block time", async function () {
      const { assets, alice, relayer, request } = await loadFixture(sigFixture);
      const signature = await signRegister(alice, assets, request);
      await nextBlockAt(Number(request.deadline - BigInt(await latest())) + 1);
      await expect(send(assets, relayer, request, signature))
        .to.be.revertedWithCustomError(assets, "SignatureExpired")
        .withArgs(request.deadline, request.deadline + 1n);

      const { assets: fresh, request: r2 } = await loadFixture(sigFixture);
      const sig2 = await signRegister(alice, fresh, r2);
      await nextBlockAt(Number(r2.deadline - BigInt(await latest())));
      await expect(send(fresh, relayer, r2, sig2)).to.emit(fresh, "AssetRegistered");
    });

    it("refuses a signature for another chain id", async function () {
      const { assets, alice, relayer, request } = await loadFixture(sigFixture);
      const signature = await signRegister(alice, assets, request, { chainId: 1n });
      await expect(send(assets, relayer, request, signature))
        .to.be.revertedWithCustomError(assets, "InvalidSignature")
        .withArgs(alice.address);
    });

    it("refuses a signature for another contract address", async function () {
      const { assets, grants, alice, relayer, request } = await loadFixture(sigFixture);
      const signature = await signRegister(alice, assets, request, { verifyingContract: await grants.getAddress() });
      await expect(send(assets, relayer, request, signature))
        .to.be.revertedWithCustomError(assets, "InvalidSignature")
        .withArgs(alice.address);
    });

    it("refuses a signature under another domain name or version", async function () {
      const { assets, alice, relayer, request } = await loadFixture(sigFixture);
      for (const override of [{ name: "dataseal GrantRegistry" }, { version: "2" }]) {
        const signature = await signRegister(alice, assets, request, override);
        await expect(send(assets, relayer, request, signature))
          .to.be.revertedWithCustomError(assets, "InvalidSignature")
          .withArgs(alice.address);
      }
    });

    it("refuses a signature by anyone but the owner named in the request", async function () {
      const { assets, alice, bob, relayer, request } = await loadFixture(sigFixture);
      const signature = await signRegister(bob, assets, request);
      await expect(send(assets, relayer, request, signature))
        .to.be.revertedWithCustomError(assets, "InvalidSignature")
        .withArgs(alice.address);
      // ... nor lets a relayer redirect alice's signature to itself.
      const aliceSig = await signRegister(alice, assets, request);
      await expect(send(assets, relayer, { ...request, owner: relayer.address }, aliceSig))
        .to.be.revertedWithCustomError(assets, "InvalidSignature")
        .withArgs(relayer.address);
    });

    it("refuses a request changed after signing (every field is signed)", async function () {
      const { assets, alice, relayer, request } = await loadFixture(sigFixture);
      const signature = await signRegister(alice, assets, request);
      const parent = await registerAsset(assets, alice, "parent");
      const tampered = [
        { contentRoot: h("content:other") },
        { manifestHash: h("manifest:other") },
        { rightsType: 1 },
        { classification: 3 },
        { parentId: parent },
        { deadline: request.deadline + 1n },
      ];
      for (const change of tampered) {
        await expect(send(assets, relayer, { ...request, ...change }, signature))
          .to.be.revertedWithCustomError(assets, "InvalidSignature")
          .withArgs(alice.address);
      }
      await expect(send(assets, relayer, request, signature)).to.emit(assets, "AssetRegistered");
    });

    it("refuses malformed signatures", async function () {
      const { assets, alice, relayer, request } = await loadFixture(sigFixture);
      const signature = await signRegister(alice, assets, request);
      for (const bad of ["0x", "0x1234", ethers.dataSlice(signature, 0, 64), ethers.concat([signature, "0x00"])]) {
        await expect(send(assets, relayer, request, bad))
          .to.be.revertedWithCustomError(assets, "InvalidSignature")
          .withArgs(alice.address);
      }
    });

    it("records Derived lineage for a parent, and refuses an unknown parent after a valid signature", async function () {
      const { assets, alice, bob, relayer, request } = await loadFixture(sigFixture);
      const parent = await registerAsset(assets, bob, "parent");
      const derived = { ...request, parentId: parent };
      await expect(send(assets, relayer, derived, await signRegister(alice, assets, derived)))
        .to.emit(assets, "AssetRegistered")
        .withArgs(2n, alice.address, ROOT, MANIFEST, 5, 2, Status.Active, parent, Lineage.Derived, anyTime());

      const orphan = { ...request, contentRoot: h("content:orphan"), parentId: 99n };
      await expect(send(assets, relayer, orphan, await signRegister(alice, assets, orphan)))
        .to.be.revertedWithCustomError(assets, "UnknownAsset")
        .withArgs(99n);
      expect(await assets.nonces(alice.address)).to.equal(1n);
    });

    it("validates the record after a valid signature, leaving the nonce unused", async function () {
      const { assets, alice, relayer, request } = await loadFixture(sigFixture);
      const bad = { ...request, classification: 4 };
      await expect(send(assets, relayer, bad, await signRegister(alice, assets, bad)))
        .to.be.revertedWithCustomError(assets, "InvalidClassification")
        .withArgs(4);
      const zero = { ...request, contentRoot: ethers.ZeroHash };
      await expect(send(assets, relayer, zero, await signRegister(alice, assets, zero)))
        .to.be.revertedWithCustomError(assets, "InvalidContentRoot")
        .withArgs(ethers.ZeroHash);
      expect(await assets.nonces(alice.address)).to.equal(0n);
    });

    it("accepts an ERC-1271 contract owner's signature", async function () {
      const { assets, alice, relayer, request } = await loadFixture(sigFixture);
      const wallet = await deployMagicContract(alice, ERC1271_MAGIC);
      const r = { ...request, owner: wallet };
      await expect(send(assets, relayer, r, "0x")).to.emit(assets, "Transfer").withArgs(ethers.ZeroAddress, wallet, 1n);
      expect(await assets.ownerOf(1)).to.equal(wallet);
      expect(await assets.nonces(wallet)).to.equal(1n);
    });

    it("refuses an ERC-1271 owner whose contract does not answer", async function () {
      const { assets, grants, alice, relayer, request } = await loadFixture(sigFixture);
      const r = { ...request, owner: await grants.getAddress() };
      await expect(send(assets, relayer, r, await signRegister(alice, assets, r)))
        .to.be.revertedWithCustomError(assets, "InvalidSignature")
        .withArgs(await grants.getAddress());
    });
  });

  describe("status", function () {
    const REASON = h("reason:document");

    it("cancel: the owner cancels an active asset; the record stays", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      const id = await registerAsset(assets, alice, "a");
      await expect(assets.connect(alice).cancel(id, REASON))
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(id, Status.Active, Status.Cancelled, alice.address, REASON);
      const asset = await assets.assetOf(id);
      expect(asset.status).to.equal(BigInt(Status.Cancelled));
      expect(asset.owner).to.equal(alice.address);
      expect(asset.contentRoot).to.equal(h("content:a"));
      expect(await assets.ownerOf(id)).to.equal(alice.address);
    });

    it("cancel: the owner cancels a pending asset (review mode)", async function () {
      const { assets, alice } = await loadFixture(reviewFixture);
      const id = await registerAsset(assets, alice, "a");
      await expect(assets.connect(alice).cancel(id, REASON))
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(id, Status.Pending, Status.Cancelled, alice.address, REASON);
    });

    it("cancel: refuses non-owners (reviewers and admins included) and unknown ids", async function () {
      const { assets, alice, bob, reviewer, admin } = await loadFixture(normalFixture);
      const id = await registerAsset(assets, alice, "a");
      for (const caller of [bob, reviewer, admin]) {
        await expect(assets.connect(caller).cancel(id, REASON))
          .to.be.revertedWithCustomError(assets, "NotAssetOwner")
          .withArgs(id, caller.address, alice.address);
      }
      await expect(assets.connect(alice).cancel(2, REASON))
        .to.be.revertedWithCustomError(assets, "UnknownAsset")
        .withArgs(2n);
      await expect(assets.connect(alice).cancel(0, REASON))
        .to.be.revertedWithCustomError(assets, "UnknownAsset")
        .withArgs(0n);
    });

    it("cancel: refuses cancelled, suspended and rejected assets", async function () {
      const { assets, alice, reviewer } = await loadFixture(normalFixture);
      const cancelled = await registerAsset(assets, alice, "a");
      await assets.connect(alice).cancel(cancelled, REASON);
      await expect(assets.connect(alice).cancel(cancelled, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(cancelled, Status.Cancelled, Status.Cancelled);

      const suspended = await registerAsset(assets, alice, "b");
      await assets.connect(reviewer).suspend(suspended, REASON);
      await expect(assets.connect(alice).cancel(suspended, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(suspended, Status.Suspended, Status.Cancelled);

      const review = await loadFixture(reviewFixture);
      const rejected = await registerAsset(review.assets, review.alice, "c");
      await review.assets.connect(review.reviewer).rejectRegistration(rejected, REASON);
      await expect(review.assets.connect(review.alice).cancel(rejected, REASON))
        .to.be.revertedWithCustomError(review.assets, "InvalidStatusTransition")
        .withArgs(rejected, Status.Rejected, Status.Cancelled);
    });

    it("cancel: the old owner is refused after a transfer; the new owner may cancel", async function () {
      const { assets, alice, bob } = await loadFixture(normalFixture);
      const id = await registerAsset(assets, alice, "a");
      await assets.connect(alice).transferFrom(alice.address, bob.address, id);
      await expect(assets.connect(alice).cancel(id, REASON))
        .to.be.revertedWithCustomError(assets, "NotAssetOwner")
        .withArgs(id, alice.address, bob.address);
      await expect(assets.connect(bob).cancel(id, REASON))
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(id, Status.Active, Status.Cancelled, bob.address, REASON);
    });

    it("approve: a reviewer activates a pending asset", async function () {
      const { assets, alice, reviewer } = await loadFixture(reviewFixture);
      const id = await registerAsset(assets, alice, "a");
      await expect(assets.connect(reviewer)[APPROVE](id, REASON))
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(id, Status.Pending, Status.Active, reviewer.address, REASON);
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Active));
    });

    it("reject: a reviewer rejects a pending asset", async function () {
      const { assets, alice, reviewer } = await loadFixture(reviewFixture);
      const id = await registerAsset(assets, alice, "a");
      await expect(assets.connect(reviewer).rejectRegistration(id, REASON))
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(id, Status.Pending, Status.Rejected, reviewer.address, REASON);
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Rejected));
    });

    it("approve/reject: refuse anything but a pending asset", async function () {
      const { assets, alice, reviewer } = await loadFixture(reviewFixture);
      const active = await registerAsset(assets, alice, "active");
      await assets.connect(reviewer)[APPROVE](active, REASON);
      await expect(assets.connect(reviewer)[APPROVE](active, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(active, Status.Active, Status.Active);
      await expect(assets.connect(reviewer).rejectRegistration(active, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(active, Status.Active, Status.Rejected);

      const rejected = await registerAsset(assets, alice, "rejected");
      await assets.connect(reviewer).rejectRegistration(rejected, REASON);
      await expect(assets.connect(reviewer)[APPROVE](rejected, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(rejected, Status.Rejected, Status.Active);
      await expect(assets.connect(reviewer).rejectRegistration(rejected, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(rejected, Status.Rejected, Status.Rejected);

      const cancelled = await registerAsset(assets, alice, "cancelled");
      await assets.connect(alice).cancel(cancelled, REASON);
      await expect(assets.connect(reviewer)[APPROVE](cancelled, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(cancelled, Status.Cancelled, Status.Active);
    });

    it("approve: in normal mode there is nothing to approve", async function () {
      const { assets, alice, reviewer } = await loadFixture(normalFixture);
      const id = await registerAsset(assets, alice, "a");
      await expect(assets.connect(reviewer)[APPROVE](id, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Active, Status.Active);
    });

    it("suspend and reinstate: a reviewer moves active ↔ suspended", async function () {
      const { assets, alice, reviewer } = await loadFixture(normalFixture);
      const id = await registerAsset(assets, alice, "a");
      await expect(assets.connect(reviewer).suspend(id, REASON))
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(id, Status.Active, Status.Suspended, reviewer.address, REASON);
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Suspended));
      const REASON2 = h("reason:dispute settled");
      await expect(assets.connect(reviewer).reinstate(id, REASON2))
        .to.emit(assets, "AssetStatusChanged")
        .withArgs(id, Status.Suspended, Status.Active, reviewer.address, REASON2);
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Active));
    });

    it("suspend/reinstate: refuse the wrong starting status", async function () {
      const { assets, alice, reviewer } = await loadFixture(reviewFixture);
      const id = await registerAsset(assets, alice, "a");
      await expect(assets.connect(reviewer).suspend(id, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Pending, Status.Suspended);
      await expect(assets.connect(reviewer).reinstate(id, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Pending, Status.Active);
      await assets.connect(reviewer)[APPROVE](id, REASON);
      await expect(assets.connect(reviewer).reinstate(id, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Active, Status.Active);
      await assets.connect(reviewer).suspend(id, REASON);
      await expect(assets.connect(reviewer).suspend(id, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Suspended, Status.Suspended);
      await expect(assets.connect(reviewer)[APPROVE](id, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Suspended, Status.Active);
      await assets.connect(reviewer).reinstate(id, REASON);
      await assets.connect(alice).cancel(id, REASON);
      await expect(assets.connect(reviewer).suspend(id, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Cancelled, Status.Suspended);
      await expect(assets.connect(reviewer).reinstate(id, REASON))
        .to.be.revertedWithCustomError(assets, "InvalidStatusTransition")
        .withArgs(id, Status.Cancelled, Status.Active);
    });

    it("reviewer functions refuse non-reviewers (the owner and the admin included)", async function () {
      const { assets, alice, admin, eve, REVIEWER_ROLE } = await loadFixture(reviewFixture);
      const id = await registerAsset(assets, alice, "a");
      for (const fn of [APPROVE, "rejectRegistration", "suspend", "reinstate"]) {
        for (const caller of [alice, admin, eve]) {
          await expect(assets.connect(caller)[fn](id, REASON))
            .to.be.revertedWithCustomError(assets, "AccessControlUnauthorizedAccount")
            .withArgs(caller.address, REVIEWER_ROLE);
        }
      }
      expect(await assets.statusOf(id)).to.equal(BigInt(Status.Pending));
    });

    it("reviewer functions refuse unknown ids", async function () {
      const { assets, reviewer } = await loadFixture(reviewFixture);
      for (const fn of [APPROVE, "rejectRegistration", "suspend", "reinstate"]) {
        await expect(assets.connect(reviewer)[fn](3, REASON))
          .to.be.revertedWithCustomError(assets, "UnknownAsset")
          .withArgs(3n);
      }
    });

    it("views refuse unknown ids", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      await registerAsset(assets, alice, "a");
      for (const fn of ["assetOf", "ownerAndStatus", "statusOf"]) {
        for (const id of [0n, 2n]) {
          await expect(assets[fn](id)).to.be.revertedWithCustomError(assets, "UnknownAsset").withArgs(id);
        }
      }
    });
  });

  describe("reviewer role management", function () {
    it("the admin appoints and removes reviewers; a removed reviewer is refused", async function () {
      const { assets, admin, dave, alice, REVIEWER_ROLE } = await loadFixture(reviewFixture);
      const id = await registerAsset(assets, alice, "a");
      await expect(assets.connect(admin).grantRole(REVIEWER_ROLE, dave.address))
        .to.emit(assets, "RoleGranted")
        .withArgs(REVIEWER_ROLE, dave.address, admin.address);
      await expect(assets.connect(admin).revokeRole(REVIEWER_ROLE, dave.address))
        .to.emit(assets, "RoleRevoked")
        .withArgs(REVIEWER_ROLE, dave.address, admin.address);
      await expect(assets.connect(dave)[APPROVE](id, ethers.ZeroHash))
        .to.be.revertedWithCustomError(assets, "AccessControlUnauthorizedAccount")
        .withArgs(dave.address, REVIEWER_ROLE);
    });

    it("only the admin appoints reviewers (reviewers cannot appoint each other)", async function () {
      const { assets, reviewer, eve, REVIEWER_ROLE } = await loadFixture(normalFixture);
      for (const caller of [reviewer, eve]) {
        await expect(assets.connect(caller).grantRole(REVIEWER_ROLE, eve.address))
          .to.be.revertedWithCustomError(assets, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, DEFAULT_ADMIN_ROLE);
      }
    });

    it("a reviewer may renounce its own role only", async function () {
      const { assets, reviewer, eve, REVIEWER_ROLE } = await loadFixture(normalFixture);
      await expect(assets.connect(eve).renounceRole(REVIEWER_ROLE, reviewer.address))
        .to.be.revertedWithCustomError(assets, "AccessControlBadConfirmation")
        .withArgs();
      await expect(assets.connect(reviewer).renounceRole(REVIEWER_ROLE, reviewer.address))
        .to.emit(assets, "RoleRevoked")
        .withArgs(REVIEWER_ROLE, reviewer.address, reviewer.address);
      expect(await assets.hasRole(REVIEWER_ROLE, reviewer.address)).to.equal(false);
    });
  });

  describe("batches", function () {
    const LEAF_ENCODING = ["bytes32", "bytes32", "uint8", "uint8"];
    const records = [
      [h("content:b1"), h("manifest:b1"), 1, 0],
      [h("content:b2"), h("manifest:b2"), 3, 1],
      [h("content:b3"), h("manifest:b3"), 7, 2],
      [h("content:b4"), h("manifest:b4"), 2, 3],
      [h("content:b5"), h("manifest:b5"), 4, 1],
    ];
    const BATCH_MANIFEST = h("batch-manifest:1");

    async function batchFixture() {
      const system = await normalFixture();
      const tree = StandardMerkleTree.of(records, LEAF_ENCODING);
      await system.assets.connect(system.alice).anchorBatch(tree.root, records.length, BATCH_MANIFEST);
      return { ...system, tree };
    }

    it("anchors a batch: event, batchOf, batchIdOf, totalBatches", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      const tree = StandardMerkleTree.of(records, LEAF_ENCODING);
      expect(await assets.connect(alice).anchorBatch.staticCall(tree.root, 5, BATCH_MANIFEST)).to.equal(1n);
      const t = await nextBlockAt();
      await expect(assets.connect(alice).anchorBatch(tree.root, 5, BATCH_MANIFEST))
        .to.emit(assets, "BatchAnchored")
        .withArgs(1n, alice.address, tree.root, BATCH_MANIFEST, 5, t);
      const batch = await assets.batchOf(1);
      expect(batch.batchId).to.equal(1n);
      expect(batch.batchRoot).to.equal(tree.root);
      expect(batch.manifestHash).to.equal(BATCH_MANIFEST);
      expect(batch.anchorer).to.equal(alice.address);
      expect(batch.anchoredAt).to.equal(t);
      expect(batch.count).to.equal(5n);
      expect(await assets.batchIdOf(tree.root)).to.equal(1n);
      expect(await assets.batchIdOf(h("not anchored"))).to.equal(0n);
      expect(await assets.totalBatches()).to.equal(1n);
      expect(await assets.totalAssets()).to.equal(0n);

      await expect(assets.connect(alice).anchorBatch(h("batch:2"), 1, BATCH_MANIFEST))
        .to.emit(assets, "BatchAnchored")
        .withArgs(2n, alice.address, h("batch:2"), BATCH_MANIFEST, 1, anyTime());
    });

    it("verifyBatchMember: true for every member's leaf and proof", async function () {
      const { assets, tree } = await loadFixture(batchFixture);
      for (const [i, value] of tree.entries()) {
        expect(await assets.verifyBatchMember(1, tree.leafHash(value), tree.getProof(i))).to.equal(true);
      }
    });

    it("verifyBatchMember: false for a wrong leaf, a wrong or truncated proof, or another member's proof", async function () {
      const { assets, tree } = await loadFixture(batchFixture);
      const leaf0 = tree.leafHash(records[0]);
      const proof0 = tree.getProof(0);
      expect(await assets.verifyBatchMember(1, h("not a member"), proof0)).to.equal(false);
      // The inner node hash of the record is not a leaf (standard-v1 double hashing).
      const single = ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(LEAF_ENCODING, records[0]));
      expect(await assets.verifyBatchMember(1, single, proof0)).to.equal(false);
      expect(await assets.verifyBatchMember(1, leaf0, tree.getProof(1))).to.equal(false);
      expect(await assets.verifyBatchMember(1, leaf0, proof0.slice(1))).to.equal(false);
      expect(await assets.verifyBatchMember(1, leaf0, [...proof0, h("extra")])).to.equal(false);
      expect(await assets.verifyBatchMember(1, leaf0, [])).to.equal(false);
      const flipped = ethers.toBeHex(BigInt(proof0[0]) ^ 1n, 32);
      expect(await assets.verifyBatchMember(1, leaf0, [flipped, ...proof0.slice(1)])).to.equal(false);
    });

    it("verifyBatchRecord: true for each record, false when any field differs", async function () {
      const { assets, tree } = await loadFixture(batchFixture);
      for (const [i, [root, manifest, rights, cls]] of tree.entries()) {
        const proof = tree.getProof(i);
        expect(await assets.verifyBatchRecord(1, root, manifest, rights, cls, proof)).to.equal(true);
      }
      const [root, manifest, rights, cls] = records[1];
      const proof = tree.getProof(1);
      expect(await assets.verifyBatchRecord(1, h("content:x"), manifest, rights, cls, proof)).to.equal(false);
      expect(await assets.verifyBatchRecord(1, root, h("manifest:x"), rights, cls, proof)).to.equal(false);
      expect(await assets.verifyBatchRecord(1, root, manifest, rights + 1, cls, proof)).to.equal(false);
      expect(await assets.verifyBatchRecord(1, root, manifest, rights, cls + 1, proof)).to.equal(false);
    });

    it("a single-member batch's root is its leaf: the empty proof verifies", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      const tree = StandardMerkleTree.of([records[0]], LEAF_ENCODING);
      expect(tree.root).to.equal(tree.leafHash(records[0]));
      await assets.connect(alice).anchorBatch(tree.root, 1, BATCH_MANIFEST);
      expect(await assets.verifyBatchRecord(1, ...records[0], [])).to.equal(true);
    });

    it("proofs are checked against the batch asked for", async function () {
      const { assets, alice, tree } = await loadFixture(batchFixture);
      const other = StandardMerkleTree.of(records.slice(0, 2), LEAF_ENCODING);
      await assets.connect(alice).anchorBatch(other.root, 2, BATCH_MANIFEST);
      expect(await assets.verifyBatchRecord(2, ...records[0], other.getProof(0))).to.equal(true);
      expect(await assets.verifyBatchRecord(2, ...records[0], tree.getProof(0))).to.equal(false);
      expect(await assets.verifyBatchRecord(1, ...records[0], other.getProof(0))).to.equal(false);
    });

    it("refuses a zero root, a zero manifest hash and counts 0 or 16,777,216; accepts 16,777,215", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      await expect(assets.connect(alice).anchorBatch(ethers.ZeroHash, 1, BATCH_MANIFEST))
        .to.be.revertedWithCustomError(assets, "InvalidContentRoot")
        .withArgs(ethers.ZeroHash);
      await expect(assets.connect(alice).anchorBatch(h("batch"), 1, ethers.ZeroHash))
        .to.be.revertedWithCustomError(assets, "InvalidManifestHash")
        .withArgs(ethers.ZeroHash);
      for (const count of [0, 2 ** 24, 2 ** 32 - 1]) {
        await expect(assets.connect(alice).anchorBatch(h("batch"), count, BATCH_MANIFEST))
          .to.be.revertedWithCustomError(assets, "InvalidBatchCount")
          .withArgs(count);
      }
      await assets.connect(alice).anchorBatch(h("batch"), 2 ** 24 - 1, BATCH_MANIFEST);
      expect((await assets.batchOf(1)).count).to.equal(2n ** 24n - 1n);
    });

    it("refuses a batch root anchored before, naming the first batch", async function () {
      const { assets, bob, tree } = await loadFixture(batchFixture);
      await expect(assets.connect(bob).anchorBatch(tree.root, 2, h("batch-manifest:2")))
        .to.be.revertedWithCustomError(assets, "BatchAlreadyAnchored")
        .withArgs(tree.root, 1n);
    });

    it("refuses unknown batch ids", async function () {
      const { assets, tree } = await loadFixture(batchFixture);
      for (const id of [0n, 2n]) {
        await expect(assets.batchOf(id)).to.be.revertedWithCustomError(assets, "UnknownBatch").withArgs(id);
        await expect(assets.verifyBatchMember(id, tree.leafHash(records[0]), tree.getProof(0)))
          .to.be.revertedWithCustomError(assets, "UnknownBatch")
          .withArgs(id);
        await expect(assets.verifyBatchRecord(id, ...records[0], tree.getProof(0)))
          .to.be.revertedWithCustomError(assets, "UnknownBatch")
          .withArgs(id);
      }
    });

    it("assigns the last batch id 2**32-1, then reverts IdSpaceExhausted", async function () {
      const { assets, alice } = await loadFixture(normalFixture);
      for (const label of ["a", "b", "c"]) await registerAsset(assets, alice, label);
      await assets.connect(alice).anchorBatch(h("batch:1"), 1, BATCH_MANIFEST);
      await assets.connect(alice).anchorBatch(h("batch:2"), 1, BATCH_MANIFEST);
      const slot = await findSlot(await assets.getAddress(), 3n | (2n << 32n));
      await setStorageAt(await assets.getAddress(), slot, 3n | ((UINT32_MAX - 1n) << 32n));

      await expect(assets.connect(alice).anchorBatch(h("batch:last"), 1, BATCH_MANIFEST))
        .to.emit(assets, "BatchAnchored")
        .withArgs(UINT32_MAX, alice.address, h("batch:last"), BATCH_MANIFEST, 1, anyTime());
      expect(await assets.totalAssets()).to.equal(3n);
      await expect(assets.connect(alice).anchorBatch(h("batch:one too many"), 1, BATCH_MANIFEST))
        .to.be.revertedWithCustomError(assets, "IdSpaceExhausted")
        .withArgs(UINT32_MAX);
    });
  });
});

/** Any uint64 block time after 2020: asserts the value is a plausible timestamp, not a wildcard. */
function anyTime() {
  return (value) => BigInt(value) > 1_577_836_800n && BigInt(value) < 2n ** 40n;
}

async function latest() {
  return (await ethers.provider.getBlock("latest")).timestamp;
}
